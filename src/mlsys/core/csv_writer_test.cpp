#include "mlsys/core/csv_writer.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "mlsys/core/csv_reader.h"

namespace mlsys {
namespace {

TEST(CsvField, PlainFieldsAreUnquoted) {
  EXPECT_EQ(csv_field("abc"), "abc");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a b"), "a b");
  EXPECT_EQ(csv_field("a#b"), "a#b");
}

TEST(CsvField, QuotesWhenNeeded) {
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_field("#tag"), "\"#tag\"");
  EXPECT_EQ(csv_field("a\tb", '\t'), "\"a\tb\"");
  EXPECT_EQ(csv_field("a,b", '\t'), "a,b");
}

TEST(CsvWriter, WritesRows) {
  std::ostringstream out;
  CsvWriter csv(out);
  csv.write_row({"model", "tokens/s"});
  csv.write_row({"llama, 7B", "1234.5"});
  EXPECT_EQ(out.str(), "model,tokens/s\n\"llama, 7B\",1234.5\n");
}

TEST(CsvWriter, SingleEmptyFieldIsQuoted) {
  std::ostringstream out;
  CsvWriter csv(out);
  csv.write_row({""});
  EXPECT_EQ(out.str(), "\"\"\n");
}

TEST(CsvWriter, RoundTripsThroughReader) {
  const std::vector<std::vector<std::string>> rows = {
      {"h1", "h2", "h3"},
      {"plain", "with,comma", "with \"quote\""},
      {"#hash", "multi\nline", "crlf\r\n"},
      {""},
      {"", "", ""},
      {" spaced ", "\"", "x"},
  };
  std::ostringstream out;
  CsvWriter csv(out);
  for (const auto& r : rows) csv.write_row(r);
  const Result<CsvTable> back = read_csv_string(out.str(), "rt.csv");
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->header, rows[0]);
  ASSERT_EQ(back->rows.size(), rows.size() - 1);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(back->rows[i - 1].fields(), rows[i]) << "row " << i;
}

}  // namespace
}  // namespace mlsys
