// Which schedule the MPI executor runs: a named algorithm with a documented fallback where the
// name exists but does not support this rank count or torus, and the `auto` rule that
// libmlsys_mpi.so and `mlsys coll run --algo auto` use.
//
//   auto c = choose_algorithm("swing-bw", {.collective = Collective::kAllreduce, .ranks = 6});
//   // c->algorithm->name() == "swing-bw"; with .ranks = 5: "rabenseifner", c->note says why
//   std::string a = auto_algorithm(Collective::kAllreduce, KiB(4), 8);   // "recdoub"
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"
#include "mlsys/core/units.h"

namespace mlsys::coll {

struct AlgorithmChoice {
  std::unique_ptr<Algorithm> algorithm;
  std::string requested;  // the name asked for ("auto" resolved to a name)
  std::string note;       // why another algorithm runs; empty when the requested one does
};

/// Builds `name` for `params`. When the name is valid for the collective but refuses these
/// parameters as unsupported (swing-bw on an odd dimension size, for instance), falls back to
/// rabenseifner for swing-bw, then to ring, which runs on every rank count; `note` says so. An
/// unknown name, a name the collective lacks, or invalid parameters (torus not multiplying to
/// ranks, bad ports) are errors. "auto" is resolved with auto_algorithm for `bytes`.
Result<AlgorithmChoice> choose_algorithm(std::string_view name, const AlgorithmParams& params,
                                         Bytes bytes = B(0));

/// The `auto` rule, measured on 8 oversubscribed ranks over Open MPI's shared-memory transport
/// (README.md has the table): whole-vector exchanges while latency dominates, then the
/// bandwidth-optimal butterflies. Allreduce: below 128 KiB "recdoub" (log2 P steps of the whole
/// vector; on shared memory it beat swing-lat, whose shorter torus hops do not matter there),
/// else "swing-bw" (2 log2 P steps of halving size) for even P and "rabenseifner" for odd P.
/// Reduce-scatter and allgather: "swing-bw" for even P, else "ring".
std::string auto_algorithm(Collective collective, Bytes bytes, int ranks);

}  // namespace mlsys::coll
