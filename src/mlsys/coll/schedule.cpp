#include "mlsys/coll/schedule.h"

#include "mlsys/core/check.h"

namespace mlsys::coll {

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::kAllreduce: return "allreduce";
    case Collective::kReduceScatter: return "reduce-scatter";
    case Collective::kAllgather: return "allgather";
    case Collective::kAlltoall: return "alltoall";
  }
  return "?";
}

Result<Collective> parse_collective(std::string_view text) {
  for (Collective c : {Collective::kAllreduce, Collective::kReduceScatter, Collective::kAllgather,
                       Collective::kAlltoall}) {
    if (to_string(c) == text) return c;
  }
  if (text == "reducescatter" || text == "reduce_scatter") return Collective::kReduceScatter;
  return invalid_input("unknown collective '" + std::string(text) + "'",
                       "use allreduce, reduce-scatter, allgather or alltoall");
}

int Algorithm::owner_of_block(int64_t block) const {
  // Default layout: blocks dealt round-robin, block b owned by rank b mod P.
  return static_cast<int>(block % params_.ranks);
}

Bytes block_bytes(Bytes total, int64_t element_size, int64_t blocks, int64_t b) {
  MLSYS_CHECK(element_size > 0 && blocks > 0 && b >= 0 && b < blocks, "bad block_bytes arguments");
  const int64_t elements = total.count() / element_size;
  const int64_t base = elements / blocks;
  const int64_t extra = elements % blocks;
  return B((base + (b < extra ? 1 : 0)) * element_size);
}

}  // namespace mlsys::coll
