// Counting $n parameters in PostgreSQL statements (no server needed): the
// driver checks the count against the values given before sending anything.
#include <gtest/gtest.h>

#include "drivers/postgres/postgres_connection.hpp"

namespace strata::detail {
namespace {

TEST(PostgresParameters, CountsTheHighestOutsideQuotesCommentsAndBodies) {
  EXPECT_EQ(highest_postgres_parameter("SELECT 1"), 0);
  EXPECT_EQ(highest_postgres_parameter("SELECT $1, $3, $2"), 3);
  EXPECT_EQ(highest_postgres_parameter("SELECT $10 + $9"), 10);
  EXPECT_EQ(highest_postgres_parameter("SELECT '$5', \"$6\", $1"), 1);
  EXPECT_EQ(highest_postgres_parameter("SELECT E'\\' $7', $2"), 2);
  EXPECT_EQ(highest_postgres_parameter("SELECT 'it''s $4', $1"), 1);
  EXPECT_EQ(highest_postgres_parameter("SELECT $$ $8 $$, $tag$ $$ $9 $tag$, $1"), 1);
  EXPECT_EQ(highest_postgres_parameter("SELECT 1 -- $4\n, $2"), 2);
  EXPECT_EQ(highest_postgres_parameter("SELECT /* $4 /* nested $5 */ $6 */ $3"), 3);
  EXPECT_EQ(highest_postgres_parameter("SELECT a$1 FROM t WHERE x = $1"), 1);  // a$1 is an identifier
  EXPECT_EQ(highest_postgres_parameter("SELECT $1::int, x::text"), 1);
  EXPECT_EQ(highest_postgres_parameter("SELECT $99999999999999"), 100000000);  // capped, no overflow
}

TEST(PostgresParameters, UnterminatedTextIsLeftToTheServer) {
  EXPECT_EQ(highest_postgres_parameter("SELECT $1, 'open"), -1);
  EXPECT_EQ(highest_postgres_parameter("SELECT $1, $$ open"), -1);
  EXPECT_EQ(highest_postgres_parameter("SELECT $1 /* open"), -1);
}

}  // namespace
}  // namespace strata::detail
