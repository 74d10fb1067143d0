#include "mlsys/sparse/matrix.h"

#include <gtest/gtest.h>

namespace mlsys::sparse {
namespace {

Coo<double> sample() {
  // 3 x 4 with a duplicate at (0, 2) and an unsorted row 2.
  return Coo<double>{.rows = 3, .cols = 4, .row = {2, 0, 0, 2, 0}, .col = {3, 2, 0, 1, 2}, .val = {5, 1, 2, 3, 4}};
}

TEST(SparseMatrix, ToCsrSortsColumnsAndSumsDuplicates) {
  const Csr<double> a = to_csr(sample());
  EXPECT_EQ(a.row_ptr, (std::vector<Offset>{0, 2, 2, 4}));
  EXPECT_EQ(a.col, (std::vector<Index>{0, 2, 1, 3}));
  EXPECT_EQ(a.val, (std::vector<double>{2, 5, 3, 5}));
  EXPECT_TRUE(valid(a));
}

TEST(SparseMatrix, DuplicatesSummingToZeroStayStructural) {
  const Coo<double> coo{.rows = 1, .cols = 1, .row = {0, 0}, .col = {0, 0}, .val = {2.5, -2.5}};
  const Csr<double> a = to_csr(coo);
  ASSERT_EQ(a.nnz(), 1);
  EXPECT_EQ(a.val[0], 0.0);
}

TEST(SparseMatrix, ExplicitZeroIsAnEntry) {
  const Coo<double> coo{.rows = 2, .cols = 2, .row = {1}, .col = {0}, .val = {0.0}};
  EXPECT_EQ(to_csr(coo).nnz(), 1);
}

TEST(SparseMatrix, TransposeTwiceIsIdentity) {
  const Csr<double> a = to_csr(sample());
  const Csr<double> t = transpose(a);
  EXPECT_EQ(t.rows, 4);
  EXPECT_EQ(t.cols, 3);
  EXPECT_TRUE(valid(t));
  EXPECT_EQ(transpose(t), a);
}

TEST(SparseMatrix, TransposeMovesEntries) {
  const Csr<double> t = transpose(to_csr(sample()));
  // Row 3 of Aᵀ holds A(2, 3) = 5.
  ASSERT_EQ(t.row_nnz(3), 1);
  EXPECT_EQ(t.col[static_cast<size_t>(t.row_ptr[3])], 2);
  EXPECT_EQ(t.val[static_cast<size_t>(t.row_ptr[3])], 5.0);
}

TEST(SparseMatrix, CscRoundTrip) {
  const Csr<double> a = to_csr(sample());
  const Csc<double> c = to_csc(a);
  EXPECT_EQ(c.col_ptr, (std::vector<Offset>{0, 1, 2, 3, 4}));
  EXPECT_EQ(to_csr(c), a);
}

TEST(SparseMatrix, CooRoundTrip) {
  const Csr<double> a = to_csr(sample());
  const Coo<double> coo = to_coo(a);
  EXPECT_EQ(coo.row, (std::vector<Index>{0, 0, 2, 2}));
  EXPECT_EQ(to_csr(coo), a);
}

TEST(SparseMatrix, CastValuesToFloat) {
  const Csr<float> f = cast_values<float>(to_csr(sample()));
  EXPECT_EQ(f.val, (std::vector<float>{2, 5, 3, 5}));
  EXPECT_TRUE(valid(f));
}

TEST(SparseMatrix, EmptyShapes) {
  const Csr<double> a = to_csr(Coo<double>{.rows = 0, .cols = 5});
  EXPECT_TRUE(valid(a));
  EXPECT_EQ(transpose(a).rows, 5);
  EXPECT_EQ(transpose(a).nnz(), 0);
}

TEST(SparseMatrix, ValidRejectsUnsortedColumns) {
  Csr<double> a = to_csr(sample());
  std::swap(a.col[0], a.col[1]);
  EXPECT_FALSE(valid(a));
}

TEST(SparseMatrix, ValidRejectsBadRowPointers) {
  Csr<double> a = to_csr(sample());
  a.row_ptr.back() = 3;
  EXPECT_FALSE(valid(a));
}

}  // namespace
}  // namespace mlsys::sparse
