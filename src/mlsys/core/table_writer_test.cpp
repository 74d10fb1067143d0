#include "mlsys/core/table_writer.h"

#include <gtest/gtest.h>

#include "mlsys/core/check.h"

namespace mlsys {
namespace {

TEST(TableWriter, AlignsTextLeftAndNumbersRight) {
  TableWriter t({"model", "layers", "time"});
  t.add_row({"llama-2-7b", "32", "2.68ms"});
  t.add_row({"gpt3", "96", "12.5ms"});
  EXPECT_EQ(t.render(),
            "model       layers    time\n"
            "----------  ------  ------\n"
            "llama-2-7b      32  2.68ms\n"
            "gpt3            96  12.5ms\n");
}

TEST(TableWriter, MixedColumnIsLeftAligned) {
  TableWriter t({"v"});
  t.add_row({"12"});
  t.add_row({"n/a"});
  EXPECT_EQ(t.render(), "v\n---\n12\nn/a\n");
}

TEST(TableWriter, EmptyCellsDoNotBreakNumericColumns) {
  TableWriter t({"name", "n"});
  t.add_row({"a", "100"});
  t.add_row({"b"});
  EXPECT_EQ(t.render(), "name    n\n----  ---\na     100\nb\n");
}

TEST(TableWriter, TitleSeparatorAndMarkedColumn) {
  TableWriter t({"plan", "tok/s"});
  t.set_title("Plans");
  t.mark_column(1, "best throughput");
  t.add_row({"tp8", "-1.5"});
  t.add_separator();
  t.add_row({"pp2", ".5"});
  EXPECT_EQ(t.render(),
            "Plans\n"
            "plan  tok/s*\n"
            "----  ------\n"
            "tp8     -1.5\n"
            "----  ------\n"
            "pp2       .5\n"
            "* best throughput\n");
}

TEST(TableWriter, ExplicitAlignmentOverridesDetection) {
  TableWriter t({"id", "name"});
  t.set_align(0, Align::kLeft);
  t.set_align(1, Align::kRight);
  t.add_row({"7", "ab"});
  t.add_row({"100", "c"});
  EXPECT_EQ(t.render(), "id   name\n---  ----\n7      ab\n100     c\n");
}

TEST(TableWriter, WidthCountsUtf8Characters) {
  TableWriter t({"t", "x"});
  t.add_row({"5\xC2\xB5s", "a"});  // "5µs": 3 characters, 4 bytes
  EXPECT_EQ(t.render(), "  t  x\n---  -\n5\xC2\xB5s  a\n");
  EXPECT_EQ(display_width("5\xC2\xB5s"), 3u);
}

TEST(TableWriter, TooManyCellsIsABug) {
  TableWriter t({"a"});
  EXPECT_THROW(t.add_row({"1", "2"}), InternalError);
  EXPECT_THROW(t.mark_column(3, ""), InternalError);
}

}  // namespace
}  // namespace mlsys
