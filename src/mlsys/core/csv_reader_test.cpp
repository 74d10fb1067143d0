#include "mlsys/core/csv_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <string>

#include "mlsys/core/file_io.h"

namespace mlsys {
namespace {

CsvTable read_ok(std::string_view text, CsvOptions options = {}) {
  Result<CsvTable> r = read_csv_string(text, "t.csv", options);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(*r) : CsvTable{};
}

std::string error_of(std::string_view text, CsvOptions options = {}) {
  const Result<CsvTable> r = read_csv_string(text, "t.csv", options);
  EXPECT_FALSE(r) << "parsed: " << text;
  return r ? std::string() : r.error().to_string();
}

// A scratch directory removed at the end of the test.
class CsvFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mlsys_csv_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  void write_gz(const std::string& file, std::string_view text) const {
    gzFile gz = gzopen(file.c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
    ASSERT_EQ(gzclose(gz), Z_OK);
  }

  std::filesystem::path dir_;
};

TEST(CsvReader, ReadsHeaderAndRows) {
  const CsvTable t = read_ok("a,b,c\n1,2,3\n4,5,6\n");
  EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1].fields(), (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(t.rows[0].line(), 2);
  EXPECT_EQ(t.rows[1].line(), 3);
}

TEST(CsvReader, QuotedFieldsWithDelimitersQuotesAndNewlines) {
  const CsvTable t = read_ok("name,note\n\"a,b\",\"say \"\"hi\"\"\"\n\"multi\nline\",x\nlast,\"\"\n");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0][0], "a,b");
  EXPECT_EQ(t.rows[0][1], "say \"hi\"");
  EXPECT_EQ(t.rows[1][0], "multi\nline");
  EXPECT_EQ(t.rows[1].line(), 3);
  EXPECT_EQ(t.rows[2].line(), 5);  // the quoted newline advanced the line count
  EXPECT_EQ(t.rows[2][1], "");
}

TEST(CsvReader, CrLfLineEndings) {
  const CsvTable t = read_ok("a,b\r\n1,\"x\"\r\n\r\n3,4\r\n");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.header[1], "b");
  EXPECT_EQ(t.rows[0][1], "x");
  EXPECT_EQ(t.rows[1][1], "4");
  EXPECT_EQ(t.rows[1].line(), 4);
}

TEST(CsvReader, CarriageReturnInsideQuotesIsKept) {
  const CsvTable t = read_ok("a\n\"x\r\ny\"\n");
  EXPECT_EQ(t.rows[0][0], "x\r\ny");
}

TEST(CsvReader, LastLineWithoutNewline) {
  const CsvTable t = read_ok("a,b\n1,2");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][1], "2");
}

TEST(CsvReader, EmptyFieldsAndTrailingDelimiter) {
  const CsvTable t = read_ok("a,b,c\n,,\n1,2,\n");
  EXPECT_EQ(t.rows[0].fields(), (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(t.rows[1].fields(), (std::vector<std::string>{"1", "2", ""}));
}

TEST(CsvReader, QuotedEmptyFieldIsARecordButBlankLineIsNot) {
  const CsvTable t = read_ok("a\n\n\"\"\n\n");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].size(), 1u);
  EXPECT_EQ(t.rows[0][0], "");
}

TEST(CsvReader, SkipsCommentLinesByDefault) {
  const CsvTable t = read_ok("# source: paper\n# more\nx,y\n1,2\n# note\n3,4\n");
  EXPECT_EQ(t.header, (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1].line(), 6);
}

TEST(CsvReader, CommentSkippingCanBeTurnedOff) {
  CsvOptions options;
  options.skip_comments = false;
  const CsvTable t = read_ok("#id,v\n#1,2\n", options);
  EXPECT_EQ(t.header[0], "#id");
  EXPECT_EQ(t.rows[0][0], "#1");
}

TEST(CsvReader, HashInsideQuotedFieldIsData) {
  const CsvTable t = read_ok("a\n\"#not a comment\"\n");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][0], "#not a comment");
}

TEST(CsvReader, OtherDelimiterAndNoHeader) {
  CsvOptions options;
  options.delimiter = '\t';
  options.has_header = false;
  const CsvTable t = read_ok("1\t2\n3\t4\n", options);
  EXPECT_TRUE(t.header.empty());
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1][1], "4");
}

TEST(CsvReader, RaggedRowsAreRead) {
  const CsvTable t = read_ok("a,b\n1\n1,2,3\n");
  EXPECT_EQ(t.rows[0].size(), 1u);
  EXPECT_EQ(t.rows[1].size(), 3u);
  EXPECT_EQ(t.rows[0].get("b").error().to_string(), "t.csv:2: column 'b': missing (the row has 1 field)");
}

TEST(CsvReader, UnterminatedQuoteNamesStartLine) {
  EXPECT_EQ(error_of("a,b\n1,2\n3,\"open\n\nmore"), "t.csv:3: unterminated quoted field (add the closing '\"')");
}

TEST(CsvReader, TextAfterClosingQuoteIsAnError) {
  EXPECT_NE(error_of("a\n\"x\"y\n").find("t.csv:2: unexpected 'y' after a closing quote"), std::string::npos);
}

TEST(CsvReader, BareQuoteInsideUnquotedFieldIsData) {
  const CsvTable t = read_ok("a\n5\"\n");
  EXPECT_EQ(t.rows[0][0], "5\"");
}

TEST(CsvReader, EmptyInputHasNoHeader) {
  EXPECT_EQ(error_of(""), "t.csv:1: no header row (the file is empty)");
  EXPECT_NE(error_of("# only comments\n").find("no header row"), std::string::npos);
}

TEST(CsvReader, DuplicateColumnIsAnError) {
  EXPECT_EQ(error_of("# c\nx,y,x\n"), "t.csv:2: duplicate column 'x' in the header (columns 1 and 3)");
}

TEST(CsvReader, TypedGetters) {
  const CsvTable t = read_ok("name,tokens,rate\nllama, 4808 ,+2.5e3\n");
  const CsvRow& row = t.rows[0];
  EXPECT_EQ(*row.get("name"), "llama");
  EXPECT_EQ(*row.get_int64("tokens"), 4808);
  EXPECT_DOUBLE_EQ(*row.get_double("rate"), 2500.0);
  EXPECT_DOUBLE_EQ(*row.get_double("tokens"), 4808.0);
}

TEST(CsvReader, TypedGetterErrorsNameFileLineAndColumn) {
  const CsvTable t = read_ok("name,tokens,rate\nllama,12.5,fast\nx,,nan\n");
  EXPECT_EQ(t.rows[0].get_double("rate").error().to_string(), "t.csv:2: column 'rate': expected a number, got 'fast'");
  EXPECT_EQ(t.rows[0].get_int64("tokens").error().to_string(),
            "t.csv:2: column 'tokens': expected an integer, got '12.5'");
  EXPECT_EQ(t.rows[1].get_int64("tokens").error().to_string(), "t.csv:3: column 'tokens': empty, expected an integer");
  EXPECT_FALSE(t.rows[1].get_double("rate"));
}

TEST(CsvReader, IntegerOverflowIsReported) {
  const CsvTable t = read_ok("n\n99999999999999999999\n");
  EXPECT_NE(t.rows[0].get_int64("n").error().message().find("out of range"), std::string::npos);
}

TEST(CsvReader, UnknownColumnSuggestsClosest) {
  const CsvTable t = read_ok("ContextTokens,GeneratedTokens\n1,2\n");
  const Result<std::string_view> r = t.rows[0].get("ContextToken");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "t.csv:2: column 'ContextToken': no such column (did you mean 'ContextTokens'?)");
}

TEST(CsvReader, RequireColumnIsLocatedAtHeader) {
  Result<CsvReader> reader = CsvReader::from_string("# c\nalpha,beta\n1,2\n", "h.csv");
  ASSERT_TRUE(reader);
  EXPECT_EQ(*reader->require_column("beta"), 1u);
  EXPECT_EQ(reader->column_index("alpha"), 0u);
  EXPECT_FALSE(reader->column_index("gamma").has_value());
  EXPECT_EQ(reader->require_column("gamma").error().to_string(),
            "h.csv:2: no column 'gamma' (columns are: alpha, beta)");
}

TEST(CsvReader, StreamingReusesRow) {
  Result<CsvReader> reader = CsvReader::from_string("a,b\n1,2,3\n4\n", "s.csv");
  ASSERT_TRUE(reader);
  CsvRow row;
  ASSERT_TRUE(*reader->next(row));
  EXPECT_EQ(row.size(), 3u);
  ASSERT_TRUE(*reader->next(row));
  EXPECT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0], "4");
  EXPECT_EQ(row.location().file, "s.csv");
  const Result<bool> end = reader->next(row);
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(CsvReader, FieldLongerThanChunkSpansBuffers) {
  const std::string big(200000, 'x');
  const CsvTable t = read_ok("a,b\n\"" + big + "\"," + big + "\r\n");
  EXPECT_EQ(t.rows[0][0], big);
  EXPECT_EQ(t.rows[0][1], big);
}

TEST_F(CsvFileTest, ReadsPlainFile) {
  ASSERT_TRUE(write_text_file(path("p.csv"), "# hdr\nx,y\n1,2\n"));
  Result<CsvReader> reader = CsvReader::open(path("p.csv"));
  ASSERT_TRUE(reader) << reader.error().to_string();
  CsvRow row;
  ASSERT_TRUE(*reader->next(row));
  EXPECT_EQ(*row.get_int64("y"), 2);
  EXPECT_EQ(row.location().file, path("p.csv"));
  EXPECT_EQ(row.line(), 3);
}

TEST_F(CsvFileTest, ReadsGzipFileInChunks) {
  std::string text = "# generated\nid,value\n";
  for (int i = 0; i < 50000; ++i) text += std::to_string(i) + "," + std::to_string(i * 2) + "\n";
  write_gz(path("big.csv.gz"), text);
  Result<CsvReader> reader = CsvReader::open(path("big.csv.gz"));
  ASSERT_TRUE(reader) << reader.error().to_string();
  CsvRow row;
  int64_t count = 0;
  int64_t sum = 0;
  for (;;) {
    Result<bool> more = reader->next(row);
    ASSERT_TRUE(more) << more.error().to_string();
    if (!*more) break;
    sum += *row.get_int64("value");
    ++count;
  }
  EXPECT_EQ(count, 50000);
  EXPECT_EQ(sum, 2 * (int64_t{49999} * 50000 / 2));
  EXPECT_EQ(row.line(), 50002);
}

TEST_F(CsvFileTest, TruncatedGzipIsAnIoError) {
  std::string text = "a,b\n";
  for (int i = 0; i < 20000; ++i) text += std::to_string(i * 7919) + ",x" + std::to_string(i) + "\n";
  write_gz(path("full.gz"), text);
  Result<std::string> bytes = read_text_file(path("full.gz"));
  ASSERT_TRUE(bytes);
  ASSERT_TRUE(write_text_file(path("cut.gz"), std::string_view(*bytes).substr(0, bytes->size() / 2)));
  Result<CsvReader> reader = CsvReader::open(path("cut.gz"));
  ASSERT_TRUE(reader);
  CsvRow row;
  Result<bool> more = true;
  while (more && *more) more = reader->next(row);
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code(), ErrorCode::kIo);
  EXPECT_NE(more.error().message().find("truncated gzip"), std::string::npos);
  EXPECT_EQ(more.error().where().file, path("cut.gz"));
}

TEST_F(CsvFileTest, MissingFileIsNotFound) {
  const Result<CsvReader> reader = CsvReader::open(path("absent.csv"));
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(reader.error().where().file, path("absent.csv"));
}

}  // namespace
}  // namespace mlsys
