#include "mlsys/sparse/io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "mlsys/core/file_io.h"

namespace mlsys::sparse {
namespace {

Result<MatrixFile> mtx(const std::string& text) { return parse_matrix_market(text, "t.mtx"); }

// The error's location must be t.mtx:<line> and its message must mention `what`.
void expect_error_at(const std::string& text, int line, const std::string& what) {
  auto r = mtx(text);
  ASSERT_FALSE(r) << "accepted:\n" << text;
  EXPECT_EQ(r.error().where().file, "t.mtx");
  EXPECT_EQ(r.error().where().line, line) << r.error().to_string();
  EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().to_string();
}

TEST(MatrixMarket, ReadsCoordinateRealGeneral) {
  auto r = mtx("%%MatrixMarket matrix coordinate real general\n% comment\n2 3 2\n1 3 1.5\n2 1 -2e3\n");
  ASSERT_TRUE(r) << r.error().to_string();
  const Csr<double> a = to_csr(r->entries);
  EXPECT_EQ(a.rows, 2);
  EXPECT_EQ(a.cols, 3);
  EXPECT_EQ(a.col, (std::vector<Index>{2, 0}));
  EXPECT_EQ(a.val, (std::vector<double>{1.5, -2000}));
  EXPECT_EQ(r->header.stored_entries, 2);
}

TEST(MatrixMarket, SymmetricIsExpandedWithoutDoublingTheDiagonal) {
  auto r = mtx("%%MatrixMarket matrix coordinate integer symmetric\n3 3 3\n1 1 4\n3 1 7\n2 2 5\n");
  ASSERT_TRUE(r);
  const Csr<double> a = to_csr(r->entries);
  EXPECT_EQ(a.nnz(), 4);
  EXPECT_EQ(a.val, (std::vector<double>{4, 7, 5, 7}));
}

TEST(MatrixMarket, SkewSymmetricMirrorsWithNegation) {
  auto r = mtx("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 3\n");
  ASSERT_TRUE(r);
  const Csr<double> a = to_csr(r->entries);
  EXPECT_EQ(a.col, (std::vector<Index>{1, 0}));
  EXPECT_EQ(a.val, (std::vector<double>{-3, 3}));
}

TEST(MatrixMarket, SkewSymmetricDiagonalIsAnError) {
  expect_error_at("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 2 3\n", 3, "diagonal");
}

TEST(MatrixMarket, PatternValuesAreOne) {
  auto r = mtx("%MatrixMarket matrix coordinate pattern symmetric\n2 2 1\n2 1\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(to_csr(r->entries).val, (std::vector<double>{1, 1}));
  EXPECT_EQ(r->header.field, MtxField::kPattern);
}

TEST(MatrixMarket, DuplicatesAreSummedAndZerosKept) {
  auto r = mtx("%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 2\n1 1 3\n2 2 0\n");
  ASSERT_TRUE(r);
  const Csr<double> a = to_csr(r->entries);
  EXPECT_EQ(a.nnz(), 2);
  EXPECT_EQ(a.val, (std::vector<double>{5, 0}));
}

TEST(MatrixMarket, ArrayGeneralIsColumnMajor) {
  auto r = mtx("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n0\n");
  ASSERT_TRUE(r);
  const Csr<double> a = to_csr(r->entries);
  // Every array value is stored, zeros included.
  EXPECT_EQ(a.nnz(), 4);
  EXPECT_EQ(a.val, (std::vector<double>{1, 3, 2, 0}));
}

TEST(MatrixMarket, ArraySymmetricReadsLowerTriangle) {
  auto r = mtx("%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(to_csr(r->entries).val, (std::vector<double>{1, 2, 2, 3}));
}

TEST(MatrixMarket, ArraySkewSymmetricReadsStrictLowerTriangle) {
  auto r = mtx("%%MatrixMarket matrix array real skew-symmetric\n3 3\n1\n2\n3\n");
  ASSERT_TRUE(r) << r.error().to_string();
  const Csr<double> a = to_csr(r->entries);
  EXPECT_EQ(a.col, (std::vector<Index>{1, 2, 0, 2, 0, 1}));
  EXPECT_EQ(a.val, (std::vector<double>{-1, -2, 1, -3, 2, 3}));
}

TEST(MatrixMarket, HeaderlessFileIsAPatternAndIgnoresExtraColumns) {
  // SNAP's wiki-Vote.mtx: no banner, some entry lines carry a stray third column.
  auto r = mtx("3 3 2\n1 2 3\n3 1\n");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->header.has_banner);
  const Csr<double> a = to_csr(r->entries);
  EXPECT_EQ(a.val, (std::vector<double>{1, 1}));
}

TEST(MatrixMarket, ComplexFieldIsRefused) {
  auto r = mtx("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(r.error().where().line, 1);
  EXPECT_NE(r.error().message().find("complex"), std::string::npos);
}

TEST(MatrixMarket, HermitianIsRefused) {
  auto r = mtx("%%MatrixMarket matrix coordinate real hermitian\n1 1 1\n1 1 1\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message().find("hermitian"), std::string::npos);
}

TEST(MatrixMarket, BadBannerNamesLineOne) {
  expect_error_at("%%MatrixMarkt matrix coordinate real general\n1 1 1\n1 1 1\n", 1, "banner");
  expect_error_at("%%MatrixMarket matrix coordinate real\n1 1 1\n1 1 1\n", 1, "banner");
  expect_error_at("%%MatrixMarket matrix sparse real general\n1 1 1\n1 1 1\n", 1, "format");
  expect_error_at("%%MatrixMarket matrix array pattern general\n1 1\n1\n", 1, "array pattern");
}

TEST(MatrixMarket, BadSizeLineNamesItsLine) {
  expect_error_at("%%MatrixMarket matrix coordinate real general\n%c\n2 x 1\n1 1 1\n", 3, "cols");
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2\n1 1 1\n", 2, "size line");
  expect_error_at("%%MatrixMarket matrix coordinate real symmetric\n2 3 1\n1 1 1\n", 2, "square");
  expect_error_at("%%MatrixMarket matrix coordinate real general\n3000000000 1 0\n", 2, "2^31");
}

TEST(MatrixMarket, TooFewEntriesNamesTheLastLine) {
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 2 1\n", 4, "too few");
}

TEST(MatrixMarket, TooManyEntriesNamesTheExtraLine) {
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n2 2 1\n", 4, "too many");
}

TEST(MatrixMarket, IndexOutOfRange) {
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n", 3, "out of range");
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2 1\n0 1 1\n", 3, "out of range");
}

TEST(MatrixMarket, NonNumericValue) {
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 abc\n", 3, "non-numeric");
  expect_error_at("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 1.5\n", 3, "non-integer");
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n", 3, "non-numeric");
}

TEST(MatrixMarket, TruncatedEntryLine) {
  expect_error_at("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n2 2", 4, "truncated");
}

TEST(MatrixMarket, ExtraFieldInBanneredFile) {
  expect_error_at("%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1 1\n", 3, "fields");
}

TEST(MatrixMarket, EmptyAndSizeLessFiles) {
  expect_error_at("", 1, "empty");
  expect_error_at("%%MatrixMarket matrix coordinate real general\n% only comments\n", 2, "no size line");
}

TEST(MatrixMarket, WriterRoundTripsCoordinate) {
  const Csr<double> a = to_csr(Coo<double>{.rows = 3, .cols = 2, .row = {0, 2, 2}, .col = {1, 0, 1}, .val = {0.1, -7, 0}});
  auto back = mtx(to_matrix_market(a));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(to_csr(back->entries), a);
}

TEST(MatrixMarket, WriterRoundTripsArrayAndPattern) {
  const Csr<double> a = to_csr(Coo<double>{.rows = 2, .cols = 2, .row = {0, 1}, .col = {1, 0}, .val = {4, 5}});
  auto dense = mtx(to_matrix_market(a, {.format = MtxFormat::kArray, .field = MtxField::kInteger}));
  ASSERT_TRUE(dense) << dense.error().to_string();
  EXPECT_EQ(to_csr(dense->entries).nnz(), 4);
  EXPECT_EQ(to_csr(dense->entries).val, (std::vector<double>{0, 4, 5, 0}));
  auto pattern = mtx(to_matrix_market(a, {.format = MtxFormat::kCoordinate, .field = MtxField::kPattern}));
  ASSERT_TRUE(pattern);
  EXPECT_EQ(to_csr(pattern->entries).val, (std::vector<double>{1, 1}));
}

TEST(MatrixMarket, GzipFileRoundTrip) {
  const std::string path = (std::filesystem::temp_directory_path() / "mlsys_sparse_io_test.mtx.gz").string();
  const Csr<double> a = to_csr(Coo<double>{.rows = 2, .cols = 2, .row = {0, 1}, .col = {1, 1}, .val = {1.25, 3}});
  ASSERT_TRUE(write_matrix_market(path, a));
  auto raw = read_text_file(path);
  ASSERT_TRUE(raw);
  EXPECT_EQ(static_cast<unsigned char>((*raw)[0]), 0x1f);  // gzip magic: really compressed
  auto back = read_matrix(path);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(to_csr(back->entries), a);
  std::filesystem::remove(path);
}

TEST(MatrixMarket, TruncatedGzipIsAnIoError) {
  const std::string path = (std::filesystem::temp_directory_path() / "mlsys_sparse_trunc.mtx.gz").string();
  Coo<double> coo{.rows = 500, .cols = 500};
  for (int i = 0; i < 500; ++i) {
    coo.row.push_back(i);
    coo.col.push_back((i * 7) % 500);
    coo.val.push_back(i * 0.37);
  }
  ASSERT_TRUE(write_matrix_market(path, to_csr(coo)));
  auto raw = read_text_file(path);
  ASSERT_TRUE(raw);
  ASSERT_TRUE(write_text_file(path, raw->substr(0, raw->size() / 2)));
  auto r = read_matrix(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where().file, path);
  std::filesystem::remove(path);
}

TEST(MatrixMarket, MissingFileIsNotFound) {
  auto r = read_matrix("/nonexistent/dir/x.mtx");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST(EdgeList, ReadsZeroBasedPairsWithComments) {
  auto r = parse_edge_list("# Nodes: 4\n0\t1\n3 0\n\n0 1\n", "g.txt");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries.rows, 4);
  EXPECT_EQ(r->entries.cols, 4);
  EXPECT_EQ(to_csr(r->entries).val, (std::vector<double>{2, 1}));  // the repeated edge sums
}

TEST(EdgeList, BadLinesNameTheirLine) {
  auto r = parse_edge_list("# x\n0 1\n2\n", "g.txt");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where().line, 3);
  auto n = parse_edge_list("0 -1\n", "g.txt");
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().where().line, 1);
}

TEST(Triplets, ReadsZeroBasedTripletsAsSquare) {
  auto r = parse_triplets("0 0 1.5\n4 1 -2\n", "m.tsv");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries.rows, 5);
  EXPECT_EQ(r->entries.cols, 5);
  EXPECT_EQ(to_csr(r->entries).val, (std::vector<double>{1.5, -2}));
}

TEST(Triplets, NonNumericValueNamesItsLine) {
  auto r = parse_triplets("0 0 1\n1 1 x\n", "m.tsv");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where().line, 2);
}

}  // namespace
}  // namespace mlsys::sparse
