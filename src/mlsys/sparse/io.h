// Reading and writing sparse matrices: Matrix Market (.mtx, coordinate and array; real, integer,
// pattern; general, symmetric, skew-symmetric), SNAP edge lists and headerless "i j x" triplet
// files, each plain or gzip-compressed. Errors name file:line.
//
//   MLSYS_ASSIGN_OR_RETURN(sparse::MatrixFile f, sparse::read_matrix("wiki-Vote.mtx.gz"));
//   sparse::Csr<double> a = sparse::to_csr(f.entries);  // duplicates summed
//   MLSYS_RETURN_IF_ERROR(sparse::write_matrix_market("out.mtx", a));
#pragma once

#include <string>
#include <string_view>

#include "mlsys/core/result.h"
#include "mlsys/sparse/matrix.h"

namespace mlsys::sparse {

enum class MtxFormat { kCoordinate, kArray };
enum class MtxField { kReal, kInteger, kPattern };
enum class MtxSymmetry { kGeneral, kSymmetric, kSkewSymmetric };

struct MtxHeader {
  MtxFormat format = MtxFormat::kCoordinate;
  MtxField field = MtxField::kReal;
  MtxSymmetry symmetry = MtxSymmetry::kGeneral;
  bool has_banner = true;     // false: a headerless file read as coordinate pattern general
  int64_t stored_entries = 0; // entries in the file, before symmetric expansion
};

/// A matrix as read: the header and its entries as triplets (symmetric halves mirrored,
/// skew-symmetric mirrored with negated values, pattern values 1). Duplicates are not summed
/// here; to_csr sums them. Explicit zeros are entries.
struct MatrixFile {
  MtxHeader header;
  Coo<double> entries;
};

/// Parses Matrix Market text; `name` is the file name used in error locations.
/// A first line that is not a comment starts a headerless file (SNAP's wiki-Vote.mtx): its size
/// line is "rows cols entries" and each entry "row col [ignored...]", read as a pattern.
Result<MatrixFile> parse_matrix_market(std::string_view text, std::string_view name);
/// SNAP edge list: '#' comments, "src dst" 0-based pairs; square pattern, n = max id + 1.
Result<MatrixFile> parse_edge_list(std::string_view text, std::string_view name);
/// Headerless 0-based "i j x" triplets (GraphBLAS Demo/Matrix); square, n = max index + 1.
Result<MatrixFile> parse_triplets(std::string_view text, std::string_view name);

/// The file's bytes, gunzipped when it is gzip data (plain files pass through).
Result<std::string> read_maybe_gz(const std::string& path);

/// Reads by file name (".gz" stripped first): .txt/.el → edge list, .tsv → triplets, else
/// Matrix Market.
Result<MatrixFile> read_matrix(const std::string& path);

struct MtxWriteOptions {
  MtxFormat format = MtxFormat::kCoordinate;
  MtxField field = MtxField::kReal;  // kInteger rounds values; kPattern writes no values
};

/// Matrix Market text of `a` (general symmetry; 1-based; values in shortest round-trip form).
std::string to_matrix_market(const Csr<double>& a, MtxWriteOptions options = {});
/// Writes to_matrix_market(a) to `path`, gzip-compressed when the path ends in ".gz".
Status write_matrix_market(const std::string& path, const Csr<double>& a, MtxWriteOptions options = {});

std::string_view to_string(MtxField field);
std::string_view to_string(MtxSymmetry symmetry);

}  // namespace mlsys::sparse
