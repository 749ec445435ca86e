// Allreduce time against message size on this machine's MPI (bench/scaling.py runs it with
// mpirun): the blocking MPI_Allreduce and the non-blocking MPI_Iallreduce polled with MPI_Test,
// which is how anneal waits (so that --timeout can end a job). Prints one JSON object per size.
//   mpirun -np 2 mpi_allreduce_bench [BYTES ...]   (default: 4 B to 64 MiB in steps of 4x)
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

double median_seconds(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <class Reduce>
double time_allreduce(std::vector<float>& buffer, int count, Reduce reduce) {
  const int repeats = count <= (1 << 16) ? 200 : 20;
  std::vector<double> times;
  for (int i = 0; i < repeats + 3; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    reduce(buffer.data(), count);
    const double elapsed = MPI_Wtime() - start;
    double slowest = 0;
    MPI_Allreduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (i >= 3) times.push_back(slowest);  // the first rounds warm caches and connections
  }
  return median_seconds(times);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<long> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atol(argv[i]));
  if (sizes.empty())
    for (long bytes = 4; bytes <= (64L << 20); bytes *= 4) sizes.push_back(bytes);
  for (const long bytes : sizes) {
    const int count = static_cast<int>(bytes / 4);
    std::vector<float> buffer(static_cast<size_t>(count), 1.0f);
    const double blocking = time_allreduce(buffer, count, [](float* data, int n) {
      MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    });
    const double polled = time_allreduce(buffer, count, [](float* data, int n) {
      MPI_Request request;
      MPI_Iallreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
      int done = 0;
      while (!done) MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    });
    if (rank == 0)
      std::printf("{\"ranks\": %d, \"bytes\": %ld, \"allreduce_s\": %.9g, \"iallreduce_test_s\": %.9g}\n", size, bytes, blocking,
                  polled);
  }
  MPI_Finalize();
  return 0;
}
