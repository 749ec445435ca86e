// Replaces the global operator new for the test binary. Shared libraries resolve operator new to
// this definition too, so allocations inside libanneal are counted.
#include "allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

namespace anneal::test {
void start_counting_allocations() {
  allocations = 0;
  counting = true;
}
long stop_counting_allocations() {
  counting = false;
  return allocations.load();
}
}  // namespace anneal::test

// GCC cannot see that this operator new and the deletes below are a matching malloc/free pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Every non-aligned form is replaced, so each allocation and its release go through the same
// malloc/free pair (AddressSanitizer reports a mismatch otherwise); the aligned forms stay the
// library's, allocated and released consistently by it.
namespace {
void* counted_malloc(std::size_t size) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
}  // namespace
void* operator new(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
