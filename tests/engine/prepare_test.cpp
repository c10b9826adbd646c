// strata::prepare_query: types, nullability and parameters as each engine
// reports them, from one test body per behaviour.
#include <gtest/gtest.h>

#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/query.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {

class PrepareTest : public test::EngineTest {
 protected:
  void SetUp() override {
    test::EngineTest::SetUp();
    c_ = db().connect();
    const bool pg = engine() == Engine::postgres;
    c_->execute_script(std::string("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, "
                                   "score REAL NOT NULL, avatar ") +
                       (pg ? "BYTEA" : "BLOB") +
                       ", active BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL, age BIGINT);"
                       "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), "
                       "title TEXT NOT NULL);");
  }

  PreparedQuery prepare(const std::string& sql, QueryKind kind = QueryKind::many) {
    return prepare_query(*c_, Query{"Q", kind, sql, "queries/q.sql", 3, 1});
  }

  // "type nullable|not null" per column, for short assertions.
  static std::vector<std::string> shapes(const PreparedQuery& q) {
    std::vector<std::string> out;
    for (const auto& c : q.columns) out.push_back(c.name + " " + to_string(c.type) + (c.nullable ? " null" : " not null"));
    return out;
  }

  std::unique_ptr<Connection> c_;
};

TEST_P(PrepareTest, TypesMapToTheGeneratedValueTypes) {
  auto q = prepare("SELECT id, email, name, score, avatar, active, created_at, age FROM users WHERE id = $1");
  EXPECT_EQ(shapes(q), (std::vector<std::string>{"id int64 not null", "email text not null", "name text null",
                                                 "score double not null", "avatar blob null", "active bool not null",
                                                 "created_at timestamp not null", "age int64 null"}));
  ASSERT_EQ(q.parameters.size(), 1u);
  EXPECT_EQ(q.parameters[0].name, "id");
  EXPECT_EQ(q.parameters[0].type, ValueType::int64);
  EXPECT_FALSE(q.parameters[0].nullable);
  EXPECT_EQ(q.sha384, checksum(q.sql));
}

TEST_P(PrepareTest, InnerJoinKeepsNotNullAndLeftJoinMakesTheRightSideNullable) {
  auto inner = prepare("SELECT u.email, p.title FROM users u JOIN posts p ON p.user_id = u.id");
  EXPECT_EQ(shapes(inner), (std::vector<std::string>{"email text not null", "title text not null"}));
  auto left = prepare("SELECT u.email, p.title, p.id FROM users u LEFT JOIN posts p ON p.user_id = u.id");
  EXPECT_EQ(shapes(left), (std::vector<std::string>{"email text not null", "title text null", "id int64 null"}));
  auto right = prepare("SELECT u.email, p.title FROM users AS u RIGHT OUTER JOIN posts p ON p.user_id = u.id");
  EXPECT_EQ(shapes(right), (std::vector<std::string>{"email text null", "title text not null"}));
}

TEST_P(PrepareTest, AggregatesAndExpressions) {
  auto q = prepare(
      "SELECT count(*) AS n, CAST(max(score) AS REAL) AS best, 1 AS one, "
      "coalesce(max(name), max(email)) AS \"display!: text\", CAST(sum(age) AS BIGINT) AS \"total?\" FROM users");
  EXPECT_EQ(shapes(q), (std::vector<std::string>{"n int64 not null", "best double null", "one int64 not null",
                                                 "display text not null", "total int64 null"}));
  auto exists = prepare("SELECT EXISTS (SELECT 1 FROM posts WHERE user_id = $1) AS has_posts", QueryKind::one);
  EXPECT_EQ(shapes(exists), (std::vector<std::string>{"has_posts bool not null"}));
  EXPECT_EQ(exists.parameters.at(0).type, ValueType::int64);
}

TEST_P(PrepareTest, InsertParametersTakeTheirColumnsTypesAndNullability) {
  auto q = prepare("INSERT INTO users (email, name, score, active, created_at) VALUES ($1, $2, $3, $4, $5)",
                   QueryKind::execrows);
  ASSERT_EQ(q.parameters.size(), 5u);
  std::vector<std::string> got;
  for (const auto& p : q.parameters) got.push_back(p.name + " " + to_string(p.type) + (p.nullable ? " null" : ""));
  EXPECT_EQ(got, (std::vector<std::string>{"email text", "name text null", "score double", "active bool",
                                           "created_at timestamp"}));
  EXPECT_TRUE(q.columns.empty());

  auto returning = prepare("UPDATE users SET name = $1 WHERE id = $2 RETURNING id, name", QueryKind::one);
  EXPECT_EQ(shapes(returning), (std::vector<std::string>{"id int64 not null", "name text null"}));
  EXPECT_EQ(returning.parameters.at(0).name, "name");
  EXPECT_TRUE(returning.parameters.at(0).nullable);
  EXPECT_EQ(returning.parameters.at(1).type, ValueType::int64);
}

TEST_P(PrepareTest, CastsTypeParametersAndLimitIsAnInteger) {
  auto q = prepare("SELECT email FROM users WHERE created_at > CAST($1 AS TIMESTAMP) LIMIT $2");
  ASSERT_EQ(q.parameters.size(), 2u);
  EXPECT_EQ(q.parameters[0].type, ValueType::timestamp);
  EXPECT_EQ(q.parameters[1].type, ValueType::int64);
}

TEST_P(PrepareTest, AQueryThatDoesNotPrepareNamesItsFileLineAndTheEnginesMessage) {
  try {
    prepare("SELECT id,\n       nickname FROM users");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::sql);
    EXPECT_NE(what.find("query Q"), std::string::npos) << what;
    EXPECT_NE(what.find("nickname"), std::string::npos) << what;
    EXPECT_EQ(e.position().file, "queries/q.sql");
    EXPECT_EQ(e.position().line, 4) << what;  // the query starts on line 3; nickname is on its second line
  }
}

TEST_P(PrepareTest, ManyWithoutColumnsIsRefused) {
  EXPECT_THROW(prepare("DELETE FROM posts", QueryKind::many), Error);
}

STRATA_INSTANTIATE_ENGINES(PrepareTest);

TEST(QueryFiles, NamesKindsAndPositions) {
  auto parsed = parse_queries(
      "-- A file of queries.\n"
      "-- name: FindUser :one\n"
      "SELECT * FROM users WHERE id = $1;\n"
      "\n"
      "-- name: ListUsers :many\n"
      "-- Every user.\n"
      "SELECT * FROM users;\n",
      "queries/users.sql", Engine::sqlite);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed.queries.size(), 2u);
  EXPECT_EQ(parsed.queries[0].name, "FindUser");
  EXPECT_EQ(parsed.queries[0].kind, QueryKind::one);
  EXPECT_EQ(parsed.queries[0].line, 3);
  EXPECT_EQ(parsed.queries[0].column, 1);
  EXPECT_EQ(parsed.queries[0].sql, "SELECT * FROM users WHERE id = $1");
  EXPECT_EQ(parsed.queries[1].name, "ListUsers");
  EXPECT_EQ(parsed.queries[1].kind, QueryKind::many);
  EXPECT_EQ(parsed.queries[1].line, 7);
}

TEST(QueryFiles, MissingNameBadKindAndDanglingName) {
  auto parsed = parse_queries("SELECT 1;\n-- name: X :some\nSELECT 2;\n-- name: Y :one\n", "q.sql", Engine::sqlite);
  EXPECT_FALSE(parsed.ok());
  ASSERT_EQ(parsed.diagnostics.size(), 3u);
  EXPECT_EQ(parsed.diagnostics[0].line, 1);
  EXPECT_NE(parsed.diagnostics[0].message.find("no \"-- name:"), std::string::npos);
  EXPECT_EQ(parsed.diagnostics[1].line, 2);
  EXPECT_NE(parsed.diagnostics[1].message.find(":one, :many"), std::string::npos);
  EXPECT_EQ(parsed.diagnostics[2].line, 4);
}

TEST(PreparedJson, RoundTripsAndIsStable) {
  PreparedSet set;
  set.engine = Engine::postgres;
  set.migrations = "abc";
  set.queries.push_back({"B", QueryKind::one, "q.sql", "SELECT 1", "h1", {}, {{"one", "integer", ValueType::int64, false}}});
  set.queries.push_back({"A", QueryKind::exec, "q.sql", "DELETE FROM t WHERE id = $1", "h2",
                         {{"id", "integer", ValueType::int64, false}}, {}});
  std::string json = to_json(set);
  EXPECT_TRUE(json.ends_with("}\n"));
  EXPECT_LT(json.find("\"name\": \"A\""), json.find("\"name\": \"B\""));
  PreparedSet back = prepared_set_from_json(json, "x.json");
  EXPECT_EQ(to_json(back), json);
  EXPECT_TRUE(compare(back, back).empty());
  back.queries[1].columns[0].type = ValueType::text;  // B (sorted after A)
  auto diff = compare(set, back);
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_NE(diff[0].find("query B, column one: was int64 (integer) not null, now text"), std::string::npos) << diff[0];
}

}  // namespace
}  // namespace strata
