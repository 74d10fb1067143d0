#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "mlsys/model/compute.h"

namespace mlsys::model {
namespace {

const std::string kAcesoDir = std::string(MLSYS_SHARED_DATA) + "/training/aceso_gpt1.3b_v100_4gpu";

/// A scratch directory holding a minimal valid profile; tests overwrite one file to break it.
class ScratchProfile {
 public:
  explicit ScratchProfile(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / ("mlsys_profile_db_" + name)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write("m_mbs1_tp1_algo0.csv",
          "op_name,forward-compute,backward-compute,input_size,output_size,weights,activations,"
          "fwd_reserved,bwd_reserved\n"
          "a,100,200,8,8,1,2,0,0\n"
          "b,50,60,8,16,0,4,1,1\n");
    write("p2p_intra_node.csv", "1,2,4\n5,8,10\n");
    write("prim_m_all_reduce_2gpus.csv", "data_size(MB),time(ms)\n8,1.0\n16,2.0\n");
  }
  ~ScratchProfile() { std::filesystem::remove_all(dir_); }
  void write(const std::string& file, const std::string& text) {
    std::ofstream(dir_ / file) << text;
  }
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

TEST(ProfileDb, LoadsTheShippedAcesoProfiles) {
  auto db = ProfileDb::load_aceso_dir(kAcesoDir);
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_EQ(db->micro_batches(), (std::vector<int64_t>{1, 2, 4, 8}));
  EXPECT_EQ(db->tensor_parallel(), (std::vector<int64_t>{1, 2, 4}));
  auto ops = db->ops(1, 1, 0);
  ASSERT_TRUE(ops);
  ASSERT_EQ(ops->size(), 16u);  // embedding, 13 layer ops, final layernorm, post-process
  EXPECT_EQ((*ops)[2].name, "enc-attention-qkv");
  EXPECT_EQ((*ops)[2].forward, us(659.752));
  EXPECT_DOUBLE_EQ((*ops)[2].weights_mb, 24.0);
  EXPECT_DOUBLE_EQ((*ops)[15].activations_mb, 400.025);
}

TEST(ProfileDb, MissingProfileIsNotFoundAndNamesTheFile) {
  auto db = ProfileDb::load_aceso_dir(kAcesoDir);
  ASSERT_TRUE(db);
  auto ops = db->ops(16, 1, 0);
  ASSERT_FALSE(ops);
  EXPECT_EQ(ops.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(ops.error().message().find("_mbs16_tp1_algo0.csv"), std::string::npos);
}

TEST(ProfileDb, CollectiveMatchesProfiledPointsExactly) {
  auto db = ProfileDb::load_aceso_dir(kAcesoDir);
  ASSERT_TRUE(db);
  auto t = db->collective("all_reduce", 2, MiB(16));  // table row: 16 MB -> 2.369 ms
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, ms(2.369));
}

TEST(ProfileDb, CollectiveInterpolatesBetweenSizes) {
  ScratchProfile p("interp");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_EQ(*db->collective("all_reduce", 2, MiB(12)), ms(1.5));
  EXPECT_EQ(*db->collective("all_reduce", 2, MiB(24)), ms(3.0));  // extrapolated along the slope
  EXPECT_EQ(*db->collective("all_reduce", 1, MiB(24)), Time::zero());
}

TEST(ProfileDb, UnprofiledCollectiveIsNotFound) {
  auto db = ProfileDb::load_aceso_dir(kAcesoDir);
  ASSERT_TRUE(db);
  auto t = db->collective("all_reduce", 8, MiB(16));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), ErrorCode::kNotFound);
}

TEST(ProfileDb, P2pUsesTheLog2SizeBucket) {
  ScratchProfile p("p2p");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_TRUE(db);
  EXPECT_EQ(db->p2p(MiB(3)), MiB(3) / GBps(8));    // bucket of 2 MB
  EXPECT_EQ(db->p2p(MiB(64)), MiB(64) / GBps(10));  // beyond the curve: last bucket
  EXPECT_EQ(db->p2p(Bytes{}), Time::zero());
}

TEST(ProfileDb, MalformedNumberNamesFileAndLine) {
  ScratchProfile p("malformed");
  p.write("m_mbs1_tp1_algo0.csv",
          "op_name,forward-compute,backward-compute,input_size,output_size,weights,activations,"
          "fwd_reserved,bwd_reserved\n"
          "a,100,200,8,8,1,2,0,0\n"
          "b,fast,60,8,16,0,4,1,1\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().where().line, 3);
  EXPECT_NE(db.error().where().file.find("m_mbs1_tp1_algo0.csv"), std::string::npos);
}

TEST(ProfileDb, NegativeTimeIsRejected) {
  ScratchProfile p("negative");
  p.write("prim_m_all_reduce_2gpus.csv", "data_size(MB),time(ms)\n8,-1.0\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().where().line, 2);
}

TEST(ProfileDb, P2pRowsOfDifferentLengthAreRejected) {
  ScratchProfile p("p2p_rows");
  p.write("p2p_intra_node.csv", "1,2,4\n5,8\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().where().line, 2);
}

TEST(ProfileDb, DifferentOperatorListsAreRejected) {
  ScratchProfile p("oplists");
  p.write("m_mbs2_tp1_algo0.csv",
          "op_name,forward-compute,backward-compute,input_size,output_size,weights,activations,"
          "fwd_reserved,bwd_reserved\n"
          "a,100,200,8,8,1,2,0,0\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message().find("mbs2_tp1_algo0"), std::string::npos);
}

TEST(ProfileDb, MissingDirectoryIsNotFound) {
  auto db = ProfileDb::load_aceso_dir("/nonexistent/profiles");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code(), ErrorCode::kNotFound);
}

// Fuzzer findings (fuzz/corpus/aceso_profile_fuzz/): values that overflowed int64 nanoseconds
// came back as negative times.
TEST(ProfileDb, OpTimeAbove1e10MsIsAnErrorNotANegativeTime) {
  ScratchProfile p("huge_op_time");
  p.write("m_mbs1_tp1_algo0.csv",
          "op_name,forward-compute,backward-compute,input_size,output_size,weights,activations,"
          "fwd_reserved,bwd_reserved\n"
          "a,1e300,200,8,8,1,2,0,0\n"
          "b,50,60,8,16,0,4,1,1\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().where().line, 2);
}

TEST(ProfileDb, ZeroCollectiveSizeIsAnError) {
  ScratchProfile p("zero_size");
  p.write("prim_m_all_reduce_2gpus.csv", "data_size(MB),time(ms)\n0,1.0\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().where().line, 2);
}

TEST(ProfileDb, CollectiveExtrapolationSaturatesInsteadOfOverflowing) {
  ScratchProfile p("steep_collective");
  p.write("prim_m_all_reduce_2gpus.csv", "data_size(MB),time(ms)\n1e-9,1000\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_TRUE(db) << db.error().to_string();
  auto t = db->collective("all_reduce", 2, GiB(4));
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, Time::max());
}

TEST(ProfileDb, P2pOnATinyBandwidthSaturatesInsteadOfOverflowing) {
  ScratchProfile p("tiny_p2p");
  p.write("p2p_intra_node.csv", "1,2\n1e-300,1e-300\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_EQ(db->p2p(MiB(1)), Time::max());
}

TEST(ProfileDb, InfiniteP2pBandwidthIsRejected) {
  ScratchProfile p("inf_p2p");
  p.write("p2p_intra_node.csv", "1,2\n5,inf\n");
  auto db = ProfileDb::load_aceso_dir(p.dir());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().where().line, 2);
}

}  // namespace
}  // namespace mlsys::model
