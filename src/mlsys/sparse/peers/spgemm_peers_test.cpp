#include "mlsys/sparse/peers/spgemm_peers.h"

#include <gtest/gtest.h>

#include <cmath>

#include "mlsys/sparse/generate.h"
#include "mlsys/sparse/spgemm.h"

namespace mlsys::sparse {
namespace {

Csr<double> random_matrix(int64_t rows, int64_t cols, int64_t nnz, uint64_t seed) {
  return to_csr(*uniform_random(UniformParams{.rows = rows, .cols = cols, .entries = nnz, .seed = seed}));
}

void expect_same(const Csr<double>& got, const Csr<double>& want) {
  ASSERT_EQ(got.rows, want.rows);
  ASSERT_EQ(got.cols, want.cols);
  ASSERT_EQ(got.row_ptr, want.row_ptr);
  ASSERT_EQ(got.col, want.col);
  for (size_t e = 0; e < want.val.size(); ++e) EXPECT_NEAR(got.val[e], want.val[e], 1e-12 * (1 + std::abs(want.val[e])));
}

TEST(SpgemmPeers, GraphBlasMatchesReferenceOnRectangularProduct) {
  const Csr<double> a = random_matrix(40, 30, 200, 1);
  const Csr<double> b = random_matrix(30, 50, 180, 2);
  auto peer = make_peer(PeerKind::kGraphBlas, a, b, 2);
  ASSERT_TRUE(peer) << peer.error().to_string();
  ASSERT_TRUE((*peer)->multiply());
  auto c = (*peer)->result();
  ASSERT_TRUE(c);
  expect_same(*c, *spgemm(a, b, {.algo = SpgemmAlgo::kReference}));
}

TEST(SpgemmPeers, EigenMatchesReferenceOnRectangularProduct) {
  const Csr<double> a = random_matrix(40, 30, 200, 3);
  const Csr<double> b = random_matrix(30, 50, 180, 4);
  auto peer = make_peer(PeerKind::kEigen, a, b, 1);
  ASSERT_TRUE(peer);
  ASSERT_TRUE((*peer)->multiply());
  auto c = (*peer)->result();
  ASSERT_TRUE(c);
  expect_same(*c, *spgemm(a, b, {.algo = SpgemmAlgo::kReference}));
}

TEST(SpgemmPeers, EmptyProductGivesEmptyResult) {
  for (PeerKind kind : {PeerKind::kGraphBlas, PeerKind::kEigen}) {
    auto peer = make_peer(kind, empty_csr<double>(3, 4), empty_csr<double>(4, 2), 1);
    ASSERT_TRUE(peer);
    ASSERT_TRUE((*peer)->multiply());
    auto c = (*peer)->result();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->rows, 3);
    EXPECT_EQ(c->cols, 2);
    EXPECT_EQ(c->nnz(), 0);
  }
}

TEST(SpgemmPeers, RefusesMismatchedDimensions) {
  auto peer = make_peer(PeerKind::kGraphBlas, empty_csr<double>(3, 4), empty_csr<double>(5, 2), 1);
  ASSERT_FALSE(peer);
  EXPECT_EQ(peer.error().code(), ErrorCode::kInvalidInput);
}

TEST(SpgemmPeers, ResultBeforeMultiplyIsAnError) {
  auto peer = make_peer(PeerKind::kEigen, empty_csr<double>(2, 2), empty_csr<double>(2, 2), 1);
  ASSERT_TRUE(peer);
  EXPECT_FALSE((*peer)->result());
}

TEST(SpgemmPeers, ParsesPeerNames) {
  EXPECT_EQ(*parse_peer("graphblas"), PeerKind::kGraphBlas);
  EXPECT_EQ(*parse_peer("eigen"), PeerKind::kEigen);
  EXPECT_FALSE(parse_peer("mkl"));
  EXPECT_NE(peer_version(PeerKind::kGraphBlas).find("7."), std::string::npos);
}

}  // namespace
}  // namespace mlsys::sparse
