#include "mlsys/sparse/spgemm.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>

#include "mlsys/sparse/generate.h"
#include "mlsys/sparse/io.h"

namespace mlsys::sparse {
namespace {

constexpr SpgemmAlgo kKernels[] = {SpgemmAlgo::kSpa,   SpgemmAlgo::kHash, SpgemmAlgo::kHeap, SpgemmAlgo::kInner,
                                   SpgemmAlgo::kOuter, SpgemmAlgo::kAces, SpgemmAlgo::kAuto};

template <class T>
Csr<T> multiply(const Csr<T>& a, const Csr<T>& b, SpgemmAlgo algo, int threads = 1) {
  auto c = spgemm(a, b, {.algo = algo, .threads = threads});
  EXPECT_TRUE(c) << c.error().to_string();
  return c ? *c : Csr<T>{};
}

// Every kernel at 1 and 2 threads gives exactly the reference (same summation order).
template <class T>
void expect_kernels_match_reference(const Csr<T>& a, const Csr<T>& b, int max_threads = 3, bool with_inner = true) {
  const Csr<T> ref = multiply(a, b, SpgemmAlgo::kReference);
  ASSERT_TRUE(valid(ref));
  EXPECT_EQ(ref.rows, a.rows);
  EXPECT_EQ(ref.cols, b.cols);
  for (SpgemmAlgo algo : kKernels) {
    if (algo == SpgemmAlgo::kInner && !with_inner) continue;
    for (int threads = 1; threads <= max_threads; ++threads) {
      const Csr<T> c = multiply(a, b, algo, threads);
      EXPECT_TRUE(valid(c)) << to_string(algo) << " threads " << threads;
      EXPECT_EQ(c, ref) << to_string(algo) << " threads " << threads;
    }
  }
}

Csr<double> random_csr(int64_t rows, int64_t cols, int64_t entries, uint64_t seed,
                       GeneratedValues values = GeneratedValues::kUniformReal) {
  auto coo = uniform_random({.rows = rows, .cols = cols, .entries = entries, .seed = seed, .values = values});
  EXPECT_TRUE(coo);
  return to_csr(*coo);
}

TEST(Spgemm, SmallProductByHand) {
  // [1 2; 0 3] * [4 0; 5 6] = [14 12; 15 18]
  const Csr<double> a = to_csr(Coo<double>{.rows = 2, .cols = 2, .row = {0, 0, 1}, .col = {0, 1, 1}, .val = {1, 2, 3}});
  const Csr<double> b = to_csr(Coo<double>{.rows = 2, .cols = 2, .row = {0, 1, 1}, .col = {0, 0, 1}, .val = {4, 5, 6}});
  for (SpgemmAlgo algo : {SpgemmAlgo::kReference, SpgemmAlgo::kSpa, SpgemmAlgo::kHash, SpgemmAlgo::kHeap}) {
    const Csr<double> c = multiply(a, b, algo);
    EXPECT_EQ(c.val, (std::vector<double>{14, 12, 15, 18})) << to_string(algo);
    EXPECT_EQ(c.col, (std::vector<Index>{0, 1, 0, 1})) << to_string(algo);
  }
  EXPECT_EQ(multiplications(a, b), 5);
  EXPECT_EQ(nnz_upper_bound(a, b), 4);
}

TEST(Spgemm, CancellationKeepsAStructuralZero) {
  // Row [1 1] times column [1; -1] sums to exactly zero: GraphBLAS keeps the entry.
  const Csr<double> a = to_csr(Coo<double>{.rows = 1, .cols = 2, .row = {0, 0}, .col = {0, 1}, .val = {1, 1}});
  const Csr<double> b = to_csr(Coo<double>{.rows = 2, .cols = 1, .row = {0, 1}, .col = {0, 0}, .val = {1, -1}});
  for (SpgemmAlgo algo : kKernels) {
    const Csr<double> c = multiply(a, b, algo);
    ASSERT_EQ(c.nnz(), 1) << to_string(algo);
    EXPECT_EQ(c.val[0], 0.0);
  }
}

TEST(Spgemm, ExplicitZeroInputsProduceEntries) {
  const Csr<double> a = to_csr(Coo<double>{.rows = 1, .cols = 1, .row = {0}, .col = {0}, .val = {0.0}});
  for (SpgemmAlgo algo : kKernels) EXPECT_EQ(multiply(a, a, algo).nnz(), 1) << to_string(algo);
}

TEST(Spgemm, NegativeZeroSumsKeepTheirSignBitInEveryKernel) {
  // C(0,0) = (-1)(0) + (-1)(0) = -0.0 and C(0,1) = (1)(0) = +0.0; operator== cannot tell the two
  // zeros apart, so compare bits: the dense accumulator's -0.0 resting value must not leak.
  const Csr<double> a =
      to_csr(Coo<double>{.rows = 1, .cols = 3, .row = {0, 0, 0}, .col = {0, 1, 2}, .val = {-1, -1, 1}});
  const Csr<double> b =
      to_csr(Coo<double>{.rows = 3, .cols = 2, .row = {0, 1, 2}, .col = {0, 0, 1}, .val = {0, 0, 0}});
  const Csr<double> ref = multiply(a, b, SpgemmAlgo::kReference);
  ASSERT_EQ(ref.val.size(), 2u);
  EXPECT_TRUE(std::signbit(ref.val[0]));
  EXPECT_FALSE(std::signbit(ref.val[1]));
  for (SpgemmAlgo algo : kKernels) {
    const Csr<double> c = multiply(a, b, algo);
    ASSERT_EQ(c.val.size(), 2u) << to_string(algo);
    EXPECT_EQ(std::bit_cast<uint64_t>(c.val[0]), std::bit_cast<uint64_t>(ref.val[0])) << to_string(algo);
    EXPECT_EQ(std::bit_cast<uint64_t>(c.val[1]), std::bit_cast<uint64_t>(ref.val[1])) << to_string(algo);
  }
}

TEST(Spgemm, MismatchedDimensionsAreAnError) {
  const Csr<double> a = empty_csr<double>(2, 3);
  auto c = spgemm(a, a);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(c.error().message().find("2 x 3"), std::string::npos);
}

TEST(Spgemm, ZeroThreadsIsAnError) {
  const Csr<double> a = empty_csr<double>(2, 2);
  EXPECT_FALSE(spgemm(a, a, {.threads = 0}));
}

TEST(Spgemm, TooLargeProductIsRefusedWithTheEstimate) {
  const Csr<double> a = random_csr(200, 200, 4000, 9);
  auto c = spgemm(a, a, {.algo = SpgemmAlgo::kHash, .threads = 1, .max_output_bytes = KiB(64)});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(c.error().message().find(std::to_string(nnz_upper_bound(a, a))), std::string::npos) << c.error().message();
  EXPECT_TRUE(spgemm(a, a, {.algo = SpgemmAlgo::kHash, .threads = 1, .max_output_bytes = MiB(64)}));
}

TEST(Spgemm, DenseAccumulatorWorkspaceCountsTowardsTheLimit) {
  // One entry times a 1 x 10^6 row: C is tiny but SPA needs 12 MB of accumulator per thread.
  const Csr<double> a = to_csr(Coo<double>{.rows = 1, .cols = 1, .row = {0}, .col = {0}, .val = {2}});
  const Csr<double> b = to_csr(Coo<double>{.rows = 1, .cols = 1000000, .row = {0}, .col = {999999}, .val = {3}});
  auto spa = spgemm(a, b, {.algo = SpgemmAlgo::kSpa, .threads = 1, .max_output_bytes = MiB(1)});
  ASSERT_FALSE(spa);
  EXPECT_NE(spa.error().message().find("spa workspace"), std::string::npos) << spa.error().message();
  auto hash = spgemm(a, b, {.algo = SpgemmAlgo::kHash, .threads = 1, .max_output_bytes = MiB(1)});
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->val, (std::vector<double>{6}));
}

TEST(Spgemm, UpperBoundHoldsAndMultiplicationsCountProducts) {
  const Csr<double> a = random_csr(300, 200, 3000, 4);
  const Csr<double> b = random_csr(200, 250, 2500, 5);
  const Csr<double> c = multiply(a, b, SpgemmAlgo::kHash);
  EXPECT_LE(c.nnz(), nnz_upper_bound(a, b));
  int64_t products = 0;
  for (int64_t i = 0; i < a.rows; ++i) {
    for (Offset p = a.row_ptr[static_cast<size_t>(i)]; p < a.row_ptr[static_cast<size_t>(i) + 1]; ++p) {
      products += b.row_nnz(a.col[static_cast<size_t>(p)]);
    }
  }
  EXPECT_EQ(multiplications(a, b), products);
}

TEST(Spgemm, KernelsMatchReferenceOnEmpty) {
  expect_kernels_match_reference(empty_csr<double>(0, 0), empty_csr<double>(0, 0));
  expect_kernels_match_reference(empty_csr<double>(5, 3), empty_csr<double>(3, 4));
}

TEST(Spgemm, KernelsMatchReferenceOnOneByOne) {
  const Csr<double> a = to_csr(Coo<double>{.rows = 1, .cols = 1, .row = {0}, .col = {0}, .val = {3}});
  expect_kernels_match_reference(a, a);
  EXPECT_EQ(multiply(a, a, SpgemmAlgo::kHeap).val, (std::vector<double>{9}));
}

TEST(Spgemm, KernelsMatchReferenceOnRectangular) {
  expect_kernels_match_reference(random_csr(40, 90, 300, 1), random_csr(90, 17, 400, 2));
  const Csr<double> a = random_csr(60, 25, 200, 3);
  expect_kernels_match_reference(a, transpose(a));
}

TEST(Spgemm, KernelsMatchReferenceOnRandomReals) {
  expect_kernels_match_reference(random_csr(500, 500, 6000, 11), random_csr(500, 500, 6000, 12));
}

TEST(Spgemm, KernelsMatchReferenceOnFloat) {
  const Csr<float> a = cast_values<float>(random_csr(300, 300, 4000, 13));
  expect_kernels_match_reference(a, a);
}

TEST(Spgemm, KernelsMatchReferenceOnDuplicateEntries) {
  // Drawn with replacement in a tiny shape: most positions repeat and are summed by to_csr.
  const Csr<double> a = random_csr(8, 8, 400, 21, GeneratedValues::kSmallIntegers);
  EXPECT_LT(a.nnz(), 400);
  expect_kernels_match_reference(a, a);
}

TEST(Spgemm, KernelsMatchReferenceOnRmat) {
  auto g = rmat({.scale = 11, .edge_factor = 8, .seed = 7});
  ASSERT_TRUE(g);
  const Csr<double> a = to_csr(*g);
  expect_kernels_match_reference(a, a);
  // Pattern input: every product is 1 (times multi-edge counts), so sum(C) = sum over products.
  const Csr<double> c = multiply(a, a, SpgemmAlgo::kHash, 2);
  const Csr<double> ones{.rows = a.rows, .cols = a.cols, .row_ptr = a.row_ptr, .col = a.col,
                         .val = std::vector<double>(a.val.size(), 1.0)};
  const Csr<double> c1 = multiply(ones, ones, SpgemmAlgo::kSpa, 2);
  EXPECT_EQ(std::accumulate(c1.val.begin(), c1.val.end(), 0.0), static_cast<double>(multiplications(a, a)));
  EXPECT_EQ(c.nnz(), c1.nnz());
}

TEST(Spgemm, SkewedRowsSplitAcrossThreads) {
  // One dense row carries almost all the work: the flop-balanced split must still be exact.
  Coo<double> coo{.rows = 200, .cols = 200};
  for (Index j = 0; j < 200; ++j) {
    coo.row.push_back(0);
    coo.col.push_back(j);
    coo.val.push_back(j % 5 - 2);
  }
  for (Index i = 1; i < 200; ++i) {
    coo.row.push_back(i);
    coo.col.push_back((i * 31) % 200);
    coo.val.push_back(1.5);
  }
  const Csr<double> a = to_csr(coo);
  expect_kernels_match_reference(a, a);
}

TEST(Spgemm, DeterministicAcrossRuns) {
  const Csr<double> a = random_csr(400, 400, 5000, 31);
  const Csr<double> first = multiply(a, a, SpgemmAlgo::kHash, 2);
  for (int run = 0; run < 3; ++run) EXPECT_EQ(multiply(a, a, SpgemmAlgo::kHash, 2), first);
}

TEST(Spgemm, ParseAlgo) {
  EXPECT_EQ(*parse_spgemm_algo("heap"), SpgemmAlgo::kHeap);
  EXPECT_EQ(*parse_spgemm_algo("reference"), SpgemmAlgo::kReference);
  EXPECT_EQ(*parse_spgemm_algo("aces"), SpgemmAlgo::kAces);
  EXPECT_FALSE(parse_spgemm_algo("gustavson"));
}

// ---- the shipped real matrices (SOURCES.md) ----

struct Shipped {
  const char* file;
  int64_t n;
  int64_t nnz;
  int64_t mults;
  int64_t nnz_c;
};

constexpr Shipped kShipped[] = {
    {"karate.mtx.gz", 34, 156, 1212, 698},
    {"west0067.mtx.gz", 67, 294, 1283, 1061},
    {"cryg2500.mtx.gz", 2500, 12349, 61146, 31650},
    {"p2p-Gnutella08.txt.gz", 6301, 20777, 94194, 89625},
    {"bcsstk13.mtx.gz", 2003, 83883, 4554541, 396773},
    {"mbeacxc.tsv.gz", 492, 49920, 5988684, 205661},
    {"wiki-Vote.mtx.gz", 8297, 103689, 4542805, 1831112},
    {"ca-CondMat_nr.mtx.gz", 21363, 182572, 4102404, 2348875},
};

std::string shipped_path(const char* file) { return std::string(MLSYS_SHARED_DATA) + "/matrices/" + file; }

class ShippedMatrix : public ::testing::TestWithParam<Shipped> {
 protected:
  Csr<double> load() {
    const std::string path = shipped_path(GetParam().file);
    if (!std::filesystem::exists(path)) return {};
    auto f = read_matrix(path);
    EXPECT_TRUE(f) << f.error().to_string();
    return f ? to_csr(f->entries) : Csr<double>{};
  }
  bool present() const { return std::filesystem::exists(shipped_path(GetParam().file)); }
};

TEST_P(ShippedMatrix, ReadsWithSourcesDimensions) {
  if (!present()) GTEST_SKIP() << "shared data absent";
  const Csr<double> a = load();
  EXPECT_EQ(a.rows, GetParam().n);
  EXPECT_EQ(a.cols, GetParam().n);
  EXPECT_EQ(a.nnz(), GetParam().nnz);
  EXPECT_TRUE(valid(a));
}

TEST_P(ShippedMatrix, SquareMatchesSourcesCounts) {
  if (!present()) GTEST_SKIP() << "shared data absent";
  const Csr<double> a = load();
  EXPECT_EQ(multiplications(a, a), GetParam().mults);
  const Csr<double> c = multiply(a, a, SpgemmAlgo::kHash, 2);
  EXPECT_EQ(c.nnz(), GetParam().nnz_c);
  EXPECT_LE(c.nnz(), nnz_upper_bound(a, a));
}

TEST_P(ShippedMatrix, KernelsMatchReference) {
  if (!present()) GTEST_SKIP() << "shared data absent";
  const Csr<double> a = load();
  // The inner product scans all of B per row of A (O(n * nnz)): only the small matrices.
  expect_kernels_match_reference(a, a, 2, a.rows <= 3000);
}

INSTANTIATE_TEST_SUITE_P(Sources, ShippedMatrix, ::testing::ValuesIn(kShipped),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find('.'));
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(SpgemmShipped, Bcsstk13HasEightHundredFiftyCancelledEntries) {
  const std::string path = shipped_path("bcsstk13.mtx.gz");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent";
  auto f = read_matrix(path);
  ASSERT_TRUE(f);
  const Csr<double> a = to_csr(f->entries);
  const Csr<double> c = multiply(a, a, SpgemmAlgo::kSpa, 2);
  EXPECT_EQ(std::count(c.val.begin(), c.val.end(), 0.0), 850);
}

TEST(SpgemmShipped, PatternSumEqualsMultiplications) {
  const std::string path = shipped_path("wiki-Vote.mtx.gz");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent";
  auto f = read_matrix(path);
  ASSERT_TRUE(f);
  const Csr<double> a = to_csr(f->entries);
  const Csr<double> c = multiply(a, a, SpgemmAlgo::kHeap, 2);
  EXPECT_EQ(std::accumulate(c.val.begin(), c.val.end(), 0.0), 4542805.0);
}

TEST(SpgemmShipped, RectangularTimesTransposeMatchesReference) {
  const std::string path = shipped_path("cryg2500.mtx.gz");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent";
  auto f = read_matrix(path);
  ASSERT_TRUE(f);
  // The first 700 rows of cryg2500: a real 700 x 2500 matrix, multiplied as A·Aᵀ.
  const Csr<double> full = to_csr(f->entries);
  Csr<double> a = empty_csr<double>(700, full.cols);
  a.row_ptr.assign(full.row_ptr.begin(), full.row_ptr.begin() + 701);
  a.col.assign(full.col.begin(), full.col.begin() + a.row_ptr.back());
  a.val.assign(full.val.begin(), full.val.begin() + a.row_ptr.back());
  expect_kernels_match_reference(a, transpose(a));
}

}  // namespace
}  // namespace mlsys::sparse
