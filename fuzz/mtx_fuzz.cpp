// Matrix Market, edge-list and triplet readers: never crash; every error names a line; what
// parses converts to a valid CSR whose Matrix Market text reads back to the same matrix. The
// first input byte picks the reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/sparse/io.h"
#include "mlsys/sparse/matrix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const int reader = data[0] % 3;
  const mlsys::Result<mlsys::sparse::MatrixFile> r = reader == 0   ? mlsys::sparse::parse_matrix_market(text, "f.mtx")
                                                     : reader == 1 ? mlsys::sparse::parse_edge_list(text, "f.txt")
                                                                   : mlsys::sparse::parse_triplets(text, "f.tsv");
  if (!r) {
    FUZZ_CHECK(r.error().where().file.rfind("f.", 0) == 0, "an error names the file");
    FUZZ_CHECK(r.error().where().line >= 1, "an error names a line");
    return 0;
  }
  const mlsys::sparse::Coo<double>& e = r->entries;
  FUZZ_CHECK(e.rows >= 0 && e.cols >= 0, "dimensions are non-negative");
  // Dimensions up to 2^31 - 1 are legal but a CSR of them needs gigabytes of row pointers.
  if (e.rows > (1 << 20)) return 0;
  const mlsys::sparse::Csr<double> a = mlsys::sparse::to_csr(e);
  FUZZ_CHECK(mlsys::sparse::valid(a), "the CSR is valid");
  FUZZ_CHECK(a.nnz() <= e.nnz(), "summing duplicates never adds entries");
  const auto back = mlsys::sparse::parse_matrix_market(mlsys::sparse::to_matrix_market(a), "w.mtx");
  FUZZ_CHECK(back, "written Matrix Market parses");
  const mlsys::sparse::Csr<double> again = mlsys::sparse::to_csr(back->entries);
  FUZZ_CHECK(again.row_ptr == a.row_ptr && again.col == a.col, "structure survives a round trip");
  for (size_t k = 0; k < a.val.size(); ++k) {
    FUZZ_CHECK(again.val[k] == a.val[k] || (a.val[k] != a.val[k] && again.val[k] != again.val[k]),
               "values survive a round trip");
  }
  return 0;
}
