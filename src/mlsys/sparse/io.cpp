#include "mlsys/sparse/io.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "mlsys/core/file_io.h"

namespace mlsys::sparse {
namespace {

// Splits a text into lines, numbering them from 1, and each line into whitespace tokens.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  /// The next line (without its '\n'); false at the end.
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    const size_t end = text_.find('\n', pos_);
    const size_t stop = end == std::string_view::npos ? text_.size() : end;
    line = text_.substr(pos_, stop - pos_);
    pos_ = end == std::string_view::npos ? text_.size() : end + 1;
    ++line_;
    return true;
  }
  int line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

void tokenize(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool parse_int(std::string_view s, int64_t& v) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

bool parse_real(std::string_view s, double& v) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty() && std::isfinite(v);
}

Location at(std::string_view name, int line) { return Location{std::string(name), line}; }

std::string quoted(std::string_view s) {
  constexpr size_t kMax = 40;
  return "'" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...'" : "'");
}

Result<MtxHeader> parse_banner(const std::vector<std::string_view>& t, std::string_view name) {
  const std::string hint = "expected '%%MatrixMarket matrix coordinate|array real|integer|pattern general|symmetric|skew-symmetric'";
  if (t.size() != 5) return invalid_input("bad Matrix Market banner: expected 5 words, found " + std::to_string(t.size()), hint, at(name, 1));
  if (lower(t[1]) != "matrix") return unsupported("Matrix Market object " + quoted(t[1]) + " is not supported", "only 'matrix'", at(name, 1));
  MtxHeader h;
  const std::string format = lower(t[2]);
  if (format == "coordinate") {
    h.format = MtxFormat::kCoordinate;
  } else if (format == "array") {
    h.format = MtxFormat::kArray;
  } else {
    return invalid_input("bad Matrix Market banner: format " + quoted(t[2]), "coordinate or array", at(name, 1));
  }
  const std::string field = lower(t[3]);
  if (field == "real" || field == "double") {
    h.field = MtxField::kReal;
  } else if (field == "integer") {
    h.field = MtxField::kInteger;
  } else if (field == "pattern") {
    h.field = MtxField::kPattern;
  } else if (field == "complex") {
    return unsupported("field 'complex' is not supported", "real, integer and pattern are", at(name, 1));
  } else {
    return invalid_input("bad Matrix Market banner: field " + quoted(t[3]), "real, integer or pattern", at(name, 1));
  }
  const std::string symmetry = lower(t[4]);
  if (symmetry == "general") {
    h.symmetry = MtxSymmetry::kGeneral;
  } else if (symmetry == "symmetric") {
    h.symmetry = MtxSymmetry::kSymmetric;
  } else if (symmetry == "skew-symmetric") {
    h.symmetry = MtxSymmetry::kSkewSymmetric;
  } else if (symmetry == "hermitian") {
    return unsupported("symmetry 'hermitian' is not supported", "general, symmetric and skew-symmetric are", at(name, 1));
  } else {
    return invalid_input("bad Matrix Market banner: symmetry " + quoted(t[4]), "general, symmetric or skew-symmetric", at(name, 1));
  }
  if (h.format == MtxFormat::kArray && h.field == MtxField::kPattern) {
    return invalid_input("bad Matrix Market banner: 'array pattern' is not a valid combination", "pattern needs coordinate", at(name, 1));
  }
  return h;
}

Result<int64_t> dimension(std::string_view token, std::string_view what, std::string_view name, int line) {
  int64_t v = 0;
  if (!parse_int(token, v) || v < 0) {
    return invalid_input("bad size line: " + std::string(what) + " " + quoted(token) + " is not a non-negative integer", {}, at(name, line));
  }
  if (v > kMaxDimension) {
    return unsupported("bad size line: " + std::string(what) + " " + std::to_string(v) + " exceeds 2^31 - 1", {}, at(name, line));
  }
  return v;
}

Result<double> value(std::string_view token, MtxField field, std::string_view name, int line) {
  if (field == MtxField::kInteger) {
    int64_t v = 0;
    if (!parse_int(token, v)) return invalid_input("non-integer value " + quoted(token) + " in an integer matrix", {}, at(name, line));
    return static_cast<double>(v);
  }
  double v = 0;
  if (!parse_real(token, v)) return invalid_input("non-numeric value " + quoted(token), "a finite real number", at(name, line));
  return v;
}

// Appends entry (i, j, v) and its mirror for symmetric storage.
void add_entry(Coo<double>& m, MtxSymmetry s, int64_t i, int64_t j, double v) {
  m.row.push_back(static_cast<Index>(i));
  m.col.push_back(static_cast<Index>(j));
  m.val.push_back(v);
  if (s != MtxSymmetry::kGeneral && i != j) {
    m.row.push_back(static_cast<Index>(j));
    m.col.push_back(static_cast<Index>(i));
    m.val.push_back(s == MtxSymmetry::kSkewSymmetric ? -v : v);
  }
}

bool skip_line(std::string_view line, char comment) {
  for (char c : line) {
    if (c == comment) return true;
    if (!is_space(c)) return false;
  }
  return true;  // blank
}

void reserve_for(Coo<double>& m, int64_t declared, size_t text_bytes) {
  // Never trust the declared count alone: a fuzzed size line must not allocate gigabytes.
  const int64_t cap = static_cast<int64_t>(text_bytes / 4) + 1;
  const auto n = static_cast<size_t>(std::min(declared, cap));
  m.row.reserve(n);
  m.col.reserve(n);
  m.val.reserve(n);
}

}  // namespace

std::string_view to_string(MtxField field) {
  switch (field) {
    case MtxField::kReal: return "real";
    case MtxField::kInteger: return "integer";
    case MtxField::kPattern: return "pattern";
  }
  return "?";
}

std::string_view to_string(MtxSymmetry symmetry) {
  switch (symmetry) {
    case MtxSymmetry::kGeneral: return "general";
    case MtxSymmetry::kSymmetric: return "symmetric";
    case MtxSymmetry::kSkewSymmetric: return "skew-symmetric";
  }
  return "?";
}

Result<MatrixFile> parse_matrix_market(std::string_view text, std::string_view name) {
  LineReader lines(text);
  std::vector<std::string_view> t;
  std::string_view line;
  MatrixFile out;
  MtxHeader& h = out.header;

  if (!lines.next(line)) return invalid_input("empty file: no Matrix Market banner or size line", {}, at(name, 1));
  tokenize(line, t);
  const bool banner_like = !t.empty() && (lower(t[0]).starts_with("%%") || lower(t[0]) == "%matrixmarket");
  if (banner_like) {
    if (lower(t[0]) != "%%matrixmarket" && lower(t[0]) != "%matrixmarket") {
      return invalid_input("bad Matrix Market banner " + quoted(t[0]), "expected '%%MatrixMarket'", at(name, 1));
    }
    MLSYS_ASSIGN_OR_RETURN(h, parse_banner(t, name));
    h.has_banner = true;
  } else {
    h = MtxHeader{.format = MtxFormat::kCoordinate, .field = MtxField::kPattern, .symmetry = MtxSymmetry::kGeneral,
                  .has_banner = false, .stored_entries = 0};
  }

  // The size line: the first line that is neither blank nor a comment (possibly line 1 itself).
  bool have_size = false;
  if (!banner_like && !skip_line(line, '%')) {
    have_size = true;
  } else {
    while (lines.next(line)) {
      if (!skip_line(line, '%')) {
        have_size = true;
        break;
      }
    }
  }
  if (!have_size) return invalid_input("truncated file: no size line", {}, at(name, lines.line()));
  tokenize(line, t);
  const int size_line = lines.line();
  const size_t want_tokens = h.format == MtxFormat::kCoordinate ? 3 : 2;
  if (t.size() != want_tokens) {
    return invalid_input("bad size line: expected " + std::to_string(want_tokens) + " integers, found " + std::to_string(t.size()) + " fields",
                         h.format == MtxFormat::kCoordinate ? "rows cols entries" : "rows cols", at(name, size_line));
  }
  MLSYS_ASSIGN_OR_RETURN(const int64_t rows, dimension(t[0], "rows", name, size_line));
  MLSYS_ASSIGN_OR_RETURN(const int64_t cols, dimension(t[1], "cols", name, size_line));
  if (h.symmetry != MtxSymmetry::kGeneral && rows != cols) {
    return invalid_input("bad size line: a " + std::string(to_string(h.symmetry)) + " matrix must be square, got " +
                             std::to_string(rows) + " x " + std::to_string(cols), {}, at(name, size_line));
  }
  int64_t expected = 0;
  if (h.format == MtxFormat::kCoordinate) {
    int64_t declared = 0;
    if (!parse_int(t[2], declared) || declared < 0) {
      return invalid_input("bad size line: entries " + quoted(t[2]) + " is not a non-negative integer", {}, at(name, size_line));
    }
    expected = declared;
  } else if (h.symmetry == MtxSymmetry::kGeneral) {
    expected = rows * cols;
  } else if (h.symmetry == MtxSymmetry::kSymmetric) {
    expected = rows * (rows + 1) / 2;
  } else {
    expected = rows * (rows - 1) / 2;
  }
  out.entries.rows = rows;
  out.entries.cols = cols;
  reserve_for(out.entries, expected, text.size());

  const size_t value_tokens = h.field == MtxField::kPattern ? 0 : 1;
  int64_t found = 0;
  // Array position: column-major, and for symmetric storage only the lower (or strictly lower) triangle.
  int64_t ai = h.symmetry == MtxSymmetry::kSkewSymmetric ? 1 : 0;
  int64_t aj = 0;
  while (lines.next(line)) {
    if (skip_line(line, '%')) continue;
    const int ln = lines.line();
    if (found == expected) {
      return invalid_input("too many entries: the size line (line " + std::to_string(size_line) + ") declares " +
                               std::to_string(expected), {}, at(name, ln));
    }
    tokenize(line, t);
    if (h.format == MtxFormat::kArray) {
      if (t.size() != 1) return invalid_input("array entry must be one value, found " + std::to_string(t.size()) + " fields", {}, at(name, ln));
      MLSYS_ASSIGN_OR_RETURN(const double v, value(t[0], h.field, name, ln));
      add_entry(out.entries, h.symmetry, ai, aj, v);
      if (++ai == rows) {
        ++aj;
        ai = h.symmetry == MtxSymmetry::kGeneral ? 0 : aj + (h.symmetry == MtxSymmetry::kSkewSymmetric ? 1 : 0);
      }
      ++found;
      continue;
    }
    const size_t want = 2 + value_tokens;
    if (t.size() < want) {
      return invalid_input("truncated entry: expected " + std::to_string(want) + " fields (row col" +
                               (value_tokens ? " value" : "") + "), found " + std::to_string(t.size()), {}, at(name, ln));
    }
    if (t.size() > want && h.has_banner) {
      return invalid_input("entry has " + std::to_string(t.size()) + " fields, expected " + std::to_string(want) +
                               " for a " + std::string(to_string(h.field)) + " matrix", {}, at(name, ln));
    }
    int64_t i = 0;
    int64_t j = 0;
    if (!parse_int(t[0], i)) return invalid_input("non-integer row index " + quoted(t[0]), {}, at(name, ln));
    if (!parse_int(t[1], j)) return invalid_input("non-integer column index " + quoted(t[1]), {}, at(name, ln));
    if (i < 1 || i > rows || j < 1 || j > cols) {
      return invalid_input("index (" + std::to_string(i) + ", " + std::to_string(j) + ") out of range for a " +
                               std::to_string(rows) + " x " + std::to_string(cols) + " matrix", "indices are 1-based", at(name, ln));
    }
    if (h.symmetry == MtxSymmetry::kSkewSymmetric && i == j) {
      return invalid_input("skew-symmetric matrix has a diagonal entry (" + std::to_string(i) + ", " + std::to_string(j) + ")", {}, at(name, ln));
    }
    double v = 1.0;
    if (value_tokens) {
      MLSYS_ASSIGN_OR_RETURN(v, value(t[2], h.field, name, ln));
    }
    add_entry(out.entries, h.symmetry, i - 1, j - 1, v);
    ++found;
  }
  if (found < expected) {
    return invalid_input("too few entries: found " + std::to_string(found) + " of the " + std::to_string(expected) +
                             " the size line (line " + std::to_string(size_line) + ") declares", "the file may be truncated",
                         at(name, std::max(lines.line(), 1)));
  }
  h.stored_entries = found;
  return out;
}

namespace {

// Shared by the two headerless 0-based formats: `fields` tokens per line, the first two indices.
Result<MatrixFile> parse_zero_based(std::string_view text, std::string_view name, size_t fields, char comment,
                                    std::string_view what) {
  LineReader lines(text);
  std::vector<std::string_view> t;
  std::string_view line;
  MatrixFile out;
  out.header = MtxHeader{.format = MtxFormat::kCoordinate, .field = fields == 2 ? MtxField::kPattern : MtxField::kReal,
                         .symmetry = MtxSymmetry::kGeneral, .has_banner = false, .stored_entries = 0};
  int64_t max_id = -1;
  while (lines.next(line)) {
    if (skip_line(line, comment)) continue;
    const int ln = lines.line();
    tokenize(line, t);
    if (t.size() != fields) {
      return invalid_input("expected " + std::to_string(fields) + " fields per " + std::string(what) + " line, found " +
                               std::to_string(t.size()), {}, at(name, ln));
    }
    int64_t ids[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      if (!parse_int(t[static_cast<size_t>(k)], ids[k]) || ids[k] < 0) {
        return invalid_input("bad index " + quoted(t[static_cast<size_t>(k)]) + ": expected a non-negative integer", "indices are 0-based", at(name, ln));
      }
      if (ids[k] >= kMaxDimension) return unsupported("index " + std::to_string(ids[k]) + " exceeds 2^31 - 2", {}, at(name, ln));
    }
    double v = 1.0;
    if (fields == 3) {
      MLSYS_ASSIGN_OR_RETURN(v, value(t[2], MtxField::kReal, name, ln));
    }
    max_id = std::max({max_id, ids[0], ids[1]});
    out.entries.row.push_back(static_cast<Index>(ids[0]));
    out.entries.col.push_back(static_cast<Index>(ids[1]));
    out.entries.val.push_back(v);
  }
  out.entries.rows = max_id + 1;
  out.entries.cols = max_id + 1;
  out.header.stored_entries = out.entries.nnz();
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && lower(s.substr(s.size() - suffix.size())) == suffix;
}

}  // namespace

Result<MatrixFile> parse_edge_list(std::string_view text, std::string_view name) {
  return parse_zero_based(text, name, 2, '#', "edge-list");
}

Result<MatrixFile> parse_triplets(std::string_view text, std::string_view name) {
  return parse_zero_based(text, name, 3, '#', "triplet");
}

Result<std::string> read_maybe_gz(const std::string& path) {
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    if (errno == ENOENT) return not_found("no such file", "check the path", Location{path, 0});
    return Error(ErrorCode::kIo, std::string("cannot open file: ") + std::strerror(errno), {}, Location{path, 0});
  }
  std::string text;
  std::vector<char> buf(1 << 16);
  for (;;) {
    const int n = gzread(file, buf.data(), static_cast<unsigned>(buf.size()));
    int errnum = Z_OK;
    const char* message = gzerror(file, &errnum);
    if (n < 0 || (n == 0 && errnum != Z_OK)) {
      std::string what = errnum == Z_ERRNO ? std::string(std::strerror(errno)) : std::string(message);
      if (errnum == Z_BUF_ERROR) what = "truncated gzip data (" + what + ")";
      gzclose(file);
      return Error(ErrorCode::kIo, "cannot read: " + what, {}, Location{path, 0});
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<size_t>(n));
  }
  gzclose(file);
  return text;
}

Result<MatrixFile> read_matrix(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(const std::string text, read_maybe_gz(path));
  std::string_view base = path;
  if (ends_with(base, ".gz")) base.remove_suffix(3);
  if (ends_with(base, ".txt") || ends_with(base, ".el")) return parse_edge_list(text, path);
  if (ends_with(base, ".tsv")) return parse_triplets(text, path);
  return parse_matrix_market(text, path);
}

std::string to_matrix_market(const Csr<double>& a, MtxWriteOptions options) {
  std::string out = "%%MatrixMarket matrix ";
  out += options.format == MtxFormat::kCoordinate ? "coordinate " : "array ";
  out += to_string(options.format == MtxFormat::kArray && options.field == MtxField::kPattern ? MtxField::kReal : options.field);
  out += " general\n";
  char buf[64];
  auto put_value = [&](double v) {
    if (options.field == MtxField::kInteger) {
      out += std::to_string(std::llround(v));
    } else {
      const auto r = std::to_chars(buf, buf + sizeof buf, v);
      out.append(buf, r.ptr);
    }
  };
  if (options.format == MtxFormat::kArray) {
    out += std::to_string(a.rows) + " " + std::to_string(a.cols) + "\n";
    const Csc<double> c = to_csc(a);
    for (int64_t j = 0; j < a.cols; ++j) {
      Offset p = c.col_ptr[static_cast<size_t>(j)];
      for (int64_t i = 0; i < a.rows; ++i) {
        double v = 0.0;
        if (p < c.col_ptr[static_cast<size_t>(j) + 1] && c.row[static_cast<size_t>(p)] == i) v = c.val[static_cast<size_t>(p++)];
        put_value(v);
        out += '\n';
      }
    }
    return out;
  }
  out += std::to_string(a.rows) + " " + std::to_string(a.cols) + " " + std::to_string(a.nnz()) + "\n";
  for (int64_t i = 0; i < a.rows; ++i) {
    for (Offset p = a.row_ptr[static_cast<size_t>(i)]; p < a.row_ptr[static_cast<size_t>(i) + 1]; ++p) {
      out += std::to_string(i + 1);
      out += ' ';
      out += std::to_string(a.col[static_cast<size_t>(p)] + 1);
      if (options.field != MtxField::kPattern) {
        out += ' ';
        put_value(a.val[static_cast<size_t>(p)]);
      }
      out += '\n';
    }
  }
  return out;
}

Status write_matrix_market(const std::string& path, const Csr<double>& a, MtxWriteOptions options) {
  const std::string text = to_matrix_market(a, options);
  if (!ends_with(path, ".gz")) return write_text_file(path, text);
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) return Error(ErrorCode::kIo, "cannot create file", {}, Location{path, 0});
  size_t done = 0;
  while (done < text.size()) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(text.size() - done, 1u << 20));
    if (gzwrite(file, text.data() + done, chunk) != static_cast<int>(chunk)) {
      gzclose(file);
      return Error(ErrorCode::kIo, "cannot write", {}, Location{path, 0});
    }
    done += chunk;
  }
  if (gzclose(file) != Z_OK) return Error(ErrorCode::kIo, "cannot finish writing", {}, Location{path, 0});
  return {};
}

}  // namespace mlsys::sparse
