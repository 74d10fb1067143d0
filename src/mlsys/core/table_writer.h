// Aligned plain-text tables for terminal output: numbers right-aligned, text left-aligned.
//
//   TableWriter t({"model", "layers", "MFU"});
//   t.add_row({"llama-2-7b", "32", "52.1%"});
//   std::cout << t.render();
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mlsys {

enum class Align { kAuto, kLeft, kRight };

class TableWriter {
 public:
  explicit TableWriter(std::vector<std::string> headers);

  /// A line printed above the table.
  void set_title(std::string title);
  /// kAuto (the default) right-aligns a column whose non-empty cells all start with a number
  /// ("12", "-3.5", "2.68ms", "45%"), and left-aligns it otherwise.
  void set_align(size_t column, Align align);
  /// Marks one column (the recommended choice, the best value): its header gets a trailing '*'
  /// and "* <note>" is printed under the table. A later call replaces the mark.
  void mark_column(size_t column, std::string note);
  /// Appends a row; missing trailing cells are empty. More cells than headers is a bug.
  void add_row(std::vector<std::string> cells);
  /// A dashed line between row groups.
  void add_separator();

  size_t rows() const { return rows_.size(); }
  /// The table: title, header, dashed rule, rows, note; columns two spaces apart, no trailing
  /// blanks, every line ending in '\n'. Widths count UTF-8 characters, not bytes.
  std::string render() const;

 private:
  bool right_aligned(size_t column) const;

  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::string title_;
  std::optional<size_t> marked_;
  std::string mark_note_;
  std::vector<std::vector<std::string>> rows_;  // an empty row stands for a separator
};

/// Display width of UTF-8 text: the number of code points.
size_t display_width(const std::string& text);

}  // namespace mlsys
