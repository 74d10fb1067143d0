// Aceso profile directories (model/compute.h, ProfileDb::load_aceso_dir): never crashes; a loaded
// database answers ops() for the written key with finite, non-negative times and sizes, and its
// collective and p2p lookups are non-negative.
//
// Input byte 0 picks which file the rest of the input replaces (mod 3): 0 the op profile
// gpt_1_3B_mbs1_tp1_algo0.csv, 1 the collective table prim_gpt_1_3B_all_reduce_2gpus.csv, 2 the
// p2p curve p2p_intra_node.csv. The other two files get valid contents trimmed from
// data/train/aceso_gpt1.3b_v100_4gpu, and all three are written into one temporary directory
// per process (the loader reads a directory, not a string).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "mlsys/core/units.h"
#include "mlsys/model/compute.h"

namespace {

constexpr std::string_view kOpFile = "gpt_1_3B_mbs1_tp1_algo0.csv";
constexpr std::string_view kPrimFile = "prim_gpt_1_3B_all_reduce_2gpus.csv";
constexpr std::string_view kP2pFile = "p2p_intra_node.csv";

constexpr std::string_view kValidOps =
    "op_name,forward-compute,backward-compute,input_size,output_size,weights,activations,fwd_reserved,bwd_reserved\n"
    "encoder-embedding,191.468,1601.714,0.008,8.000,208.000,12.000,8.000,216.000\n"
    "enc-1st-layernorm,41.586,196.296,8.000,16.000,0.000,8.016,0.000,72.000\n"
    "enc-attention-qkv,659.752,1307.446,16.000,32.000,24.000,24.000,20.000,202.000\n";
constexpr std::string_view kValidPrim =
    "data_size(MB),time(ms)\n"
    "12,1.770\n"
    "8,1.210\n"
    "16,2.369\n";
constexpr std::string_view kValidP2p =
    "1,2,4,8,16,32\n"
    "7.41,8.20,10.18,10.57,10.81,10.93\n";

const std::string& scratch_dir() {
  static const std::string dir = [] {
    char pattern[] = "/tmp/aceso_profile_fuzz.XXXXXX";
    const char* made = mkdtemp(pattern);
    FUZZ_CHECK(made != nullptr, "mkdtemp must create the scratch directory");
    return std::string(made);
  }();
  return dir;
}

void write_file(std::string_view name, std::string_view content) {
  std::ofstream out(scratch_dir() + "/" + std::string(name), std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  FUZZ_CHECK(out.good(), "writing a scratch file must succeed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 3;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  write_file(kOpFile, which == 0 ? text : kValidOps);
  write_file(kPrimFile, which == 1 ? text : kValidPrim);
  write_file(kP2pFile, which == 2 ? text : kValidP2p);

  const mlsys::Result<mlsys::model::ProfileDb> db = mlsys::model::ProfileDb::load_aceso_dir(scratch_dir());
  if (!db) {
    FUZZ_CHECK(!db.error().message().empty(), "an error says what went wrong");
    return 0;
  }
  const mlsys::Result<std::vector<mlsys::model::ProfiledOp>> ops = db->ops(1, 1, 0);
  FUZZ_CHECK(ops.ok(), "the written op profile is found");
  FUZZ_CHECK(!ops->empty(), "a loaded op profile has rows");
  for (const mlsys::model::ProfiledOp& op : *ops) {
    FUZZ_CHECK(!op.name.empty(), "every op has a name");
    FUZZ_CHECK(op.forward >= mlsys::Time::zero(), "non-negative forward time");
    FUZZ_CHECK(op.backward >= mlsys::Time::zero(), "non-negative backward time");
    for (double mb : {op.input_mb, op.output_mb, op.weights_mb, op.activations_mb, op.fwd_reserved_mb,
                      op.bwd_reserved_mb}) {
      FUZZ_CHECK(std::isfinite(mb) && mb >= 0, "finite non-negative sizes");
    }
  }
  for (const mlsys::Bytes bytes : {mlsys::B(0), mlsys::MiB(1), mlsys::MiB(10), mlsys::GiB(4)}) {
    const mlsys::Result<mlsys::Time> t = db->collective("all_reduce", 2, bytes);
    FUZZ_CHECK(t.ok(), "the written collective table is found");
    FUZZ_CHECK(*t >= mlsys::Time::zero(), "non-negative collective time");
    FUZZ_CHECK(db->p2p(bytes) >= mlsys::Time::zero(), "non-negative p2p time");
  }
  return 0;
}
