// The engine-neutral half of dump_schema: ordering and rendering (no database).
#include <gtest/gtest.h>

#include "schema/dump_objects.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {
namespace {

DumpObject object(DumpKind kind, std::string key, std::vector<std::size_t> depends_on = {}) {
  DumpObject o;
  o.kind = kind;
  o.label = key;
  o.sql = "CREATE TABLE " + key + " (id integer)";
  o.key = std::move(key);
  o.depends_on = std::move(depends_on);
  return o;
}

TEST(DumpOrder, KindThenKey) {
  std::vector<DumpObject> objects = {object(DumpKind::view, "a"), object(DumpKind::table, "b"),
                                     object(DumpKind::table, "a"), object(DumpKind::index, "a")};
  EXPECT_EQ(dump_order(objects), (std::vector<std::size_t>{2, 1, 3, 0}));
}

TEST(DumpOrder, NeededObjectIsPulledInFrontOfItsFirstUser) {
  // Table "b" has a default calling function "f"; table "a" needs nothing.
  std::vector<DumpObject> objects = {object(DumpKind::table, "a"), object(DumpKind::table, "b", {2}),
                                     object(DumpKind::function, "f"), object(DumpKind::function, "g"),
                                     object(DumpKind::view, "v", {1})};
  // a; then nothing is ready below kind function, so f; then b at once; v; g.
  EXPECT_EQ(dump_order(objects), (std::vector<std::size_t>{0, 2, 1, 4, 3}));
}

TEST(DumpOrder, ViewsFollowTheViewsTheyRead) {
  std::vector<DumpObject> objects = {object(DumpKind::view, "a_top", {2}), object(DumpKind::view, "b"),
                                     object(DumpKind::view, "c_base")};
  EXPECT_EQ(dump_order(objects), (std::vector<std::size_t>{1, 2, 0}));
}

TEST(DumpOrder, CycleIsBrokenAtItsSmallestObjectAndDuplicatesAndSelfEdgesAreIgnored) {
  std::vector<DumpObject> objects = {object(DumpKind::view, "x", {1, 1, 0}), object(DumpKind::view, "y", {0}),
                                     object(DumpKind::table, "t")};
  EXPECT_EQ(dump_order(objects), (std::vector<std::size_t>{2, 0, 1}));
}

TEST(DumpRender, HeaderStatementsAndBlankLines) {
  std::vector<DumpObject> objects = {object(DumpKind::table, "b"), object(DumpKind::table, "a")};
  EXPECT_EQ(render_dump(Engine::postgres, objects),
            "-- strata dump (postgres)\n\nCREATE TABLE a (id integer);\n\nCREATE TABLE b (id integer);\n");
  EXPECT_EQ(render_dump(Engine::sqlite, {}), "-- strata dump (sqlite)\n");
}

TEST(DumpRender, TrailingCommentIsDroppedAsAMigrationWouldDropIt) {
  DumpObject view = object(DumpKind::view, "v");
  view.sql = "CREATE VIEW v AS SELECT 1 -- note\n";
  EXPECT_EQ(render_dump(Engine::sqlite, {view}), "-- strata dump (sqlite)\n\nCREATE VIEW v AS SELECT 1;\n");
}

TEST(DumpRender, RefusesSqlTheSplitterWouldChange) {
  DumpObject f = object(DumpKind::function, "f");
  f.label = "function f()";
  f.sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n-- only: sqlite\nSELECT 1 $$";
  try {
    render_dump(Engine::postgres, {f});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("function f()"), std::string::npos) << e.what();
  }
  DumpObject two = object(DumpKind::table, "t");
  two.sql = "CREATE TABLE t (a int); CREATE TABLE u (a int)";
  EXPECT_THROW(render_dump(Engine::postgres, {two}), Error);
}

TEST(DumpExclusion, StrataTablesUnlessAskedAndNamedTablesAlways) {
  DumpOptions options;
  EXPECT_TRUE(excluded_table("strata_migrations", options));
  EXPECT_TRUE(excluded_table("strata_background_updates", options));
  EXPECT_FALSE(excluded_table("users", options));
  EXPECT_FALSE(excluded_table("Strata_x", options));
  options.include_strata_tables = true;
  options.exclude_tables = {"users"};
  EXPECT_FALSE(excluded_table("strata_migrations", options));
  EXPECT_TRUE(excluded_table("users", options));
}

}  // namespace
}  // namespace strata::schema::detail
