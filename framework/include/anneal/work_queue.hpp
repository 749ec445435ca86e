#pragma once
// Independent tasks (a sweep's runs, cross-validation's folds) spread over ranks: whichever rank
// is free takes the next task, so a slow task does not leave the others idle. Rank 0 works too,
// and a thread of its own hands out tasks meanwhile: the Communicator is called from that thread
// while rank 0's own task runs (which must not use the Communicator itself).

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "anneal/communicator.hpp"

namespace anneal {

// Runs tasks 0..count-1 once each, on every rank of `comm` (or here when it is null or has one
// rank). `run(i)` returns task i's result as bytes; an exception it throws is carried to rank 0
// and rethrown there as a RuntimeFailure naming the task and the rank. On rank 0 the result is
// every task's, in task order, and `on_result(i, bytes)` hears of each task in task order as soon
// as the tasks before it are done; other ranks return an empty vector.
std::vector<std::string> share_tasks(Communicator* comm, size_t count, const std::function<std::string(size_t)>& run,
                                     const std::function<void(size_t, const std::string&)>& on_result = {});

// A task's result as one message: fields of any bytes, each with its length.
std::string pack_fields(const std::vector<std::string>& fields);
// The fields back; throws RuntimeFailure for bytes pack_fields did not make.
std::vector<std::string> unpack_fields(const std::string& bytes);

}  // namespace anneal
