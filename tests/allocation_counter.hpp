#pragma once
// Counts calls to operator new between start and stop, process-wide (libanneal included).

namespace anneal::test {
void start_counting_allocations();
long stop_counting_allocations();  // the number counted since start
}  // namespace anneal::test
