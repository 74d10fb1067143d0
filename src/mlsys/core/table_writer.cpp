#include "mlsys/core/table_writer.h"

#include <algorithm>

#include "mlsys/core/check.h"

namespace mlsys {
namespace {

bool starts_with_number(const std::string& cell) {
  size_t i = 0;
  if (i < cell.size() && (cell[i] == '-' || cell[i] == '+')) ++i;
  if (i < cell.size() && cell[i] == '.') ++i;
  return i < cell.size() && cell[i] >= '0' && cell[i] <= '9';
}

}  // namespace

size_t display_width(const std::string& text) {
  size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // skip UTF-8 continuation bytes
  }
  return n;
}

TableWriter::TableWriter(std::vector<std::string> headers)
    : headers_(std::move(headers)), align_(headers_.size(), Align::kAuto) {}

void TableWriter::set_title(std::string title) { title_ = std::move(title); }

void TableWriter::set_align(size_t column, Align align) {
  MLSYS_CHECK(column < headers_.size(), "table column out of range");
  align_[column] = align;
}

void TableWriter::mark_column(size_t column, std::string note) {
  MLSYS_CHECK(column < headers_.size(), "table column out of range");
  marked_ = column;
  mark_note_ = std::move(note);
}

void TableWriter::add_row(std::vector<std::string> cells) {
  MLSYS_CHECK(cells.size() <= headers_.size(), "table row has more cells than headers");
  MLSYS_CHECK(!headers_.empty(), "a table needs at least one column");
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void TableWriter::add_separator() { rows_.emplace_back(); }

bool TableWriter::right_aligned(size_t column) const {
  if (align_[column] != Align::kAuto) return align_[column] == Align::kRight;
  bool any = false;
  for (const auto& row : rows_) {
    if (row.empty() || row[column].empty()) continue;
    if (!starts_with_number(row[column])) return false;
    any = true;
  }
  return any;
}

std::string TableWriter::render() const {
  const size_t columns = headers_.size();
  std::vector<std::string> header = headers_;
  if (marked_) header[*marked_] += "*";
  std::vector<size_t> width(columns);
  std::vector<bool> right(columns);
  for (size_t c = 0; c < columns; ++c) {
    width[c] = display_width(header[c]);
    for (const auto& row : rows_) {
      if (!row.empty()) width[c] = std::max(width[c], display_width(row[c]));
    }
    right[c] = right_aligned(c);
  }

  auto format_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    size_t column_start = 0;  // in display columns
    size_t shown = 0;         // display columns written so far
    for (size_t c = 0; c < columns; ++c) {
      const size_t w = display_width(cells[c]);
      const size_t lead = right[c] ? width[c] - w : 0;
      line.append(column_start + lead - shown, ' ');
      line += cells[c];
      shown = column_start + lead + w;
      column_start += width[c] + 2;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };

  std::string rule;
  for (size_t c = 0; c < columns; ++c) {
    if (c > 0) rule += "  ";
    rule.append(width[c], '-');
  }
  rule += "\n";

  std::string out;
  if (!title_.empty()) out += title_ + "\n";
  out += format_line(header);
  out += rule;
  for (const auto& row : rows_) out += row.empty() ? rule : format_line(row);
  if (marked_) out += "* " + mark_note_ + "\n";
  return out;
}

}  // namespace mlsys
