// schema/dump.cpp: dump_schema, and the ordering and formatting both engines
// share (see dump_objects.hpp).
#include "strata/schema/dump.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "schema/dump_objects.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/sql/splitter.hpp"

namespace strata::schema {
namespace detail {

std::vector<std::size_t> dump_order(const std::vector<DumpObject>& objects) {
  const std::size_t n = objects.size();
  // Dependencies deduplicated; self-references and out-of-range ones dropped.
  std::vector<std::set<std::size_t>> needs(n);
  std::vector<std::vector<std::size_t>> needed_by(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t d : objects[i].depends_on) {
      if (d < n && d != i && needs[i].insert(d).second) needed_by[d].push_back(i);
    }
  }
  using Entry = std::tuple<DumpKind, std::string_view, std::size_t>;
  auto entry = [&](std::size_t i) { return Entry{objects[i].kind, objects[i].key, i}; };
  std::set<Entry> ready;    // every dependency emitted
  std::set<Entry> waiting;  // not yet emitted, some dependency pending
  std::vector<std::size_t> pending(n);
  for (std::size_t i = 0; i < n; ++i) {
    pending[i] = needs[i].size();
    (pending[i] == 0 ? ready : waiting).insert(entry(i));
  }
  std::vector<std::size_t> order;
  order.reserve(n);
  while (!ready.empty() || !waiting.empty()) {
    std::set<Entry>& from = ready.empty() ? waiting : ready;  // waiting only to break a cycle
    std::size_t i = std::get<2>(*from.begin());
    from.erase(from.begin());
    order.push_back(i);
    for (std::size_t j : needed_by[i]) {
      if (pending[j] > 0 && --pending[j] == 0 && waiting.erase(entry(j)) == 1) ready.insert(entry(j));
    }
  }
  return order;
}

namespace {

Error unsplittable(const DumpObject& o, std::string_view why) {
  return Error(ErrorKind::usage, "cannot dump " + o.label + ": its SQL " + std::string(why) +
                                     ", so the dump would not run as a migration file");
}

}  // namespace

std::string render_dump(Engine engine, std::vector<DumpObject> objects) {
  std::vector<std::size_t> order = dump_order(objects);
  std::string out = std::string("-- strata dump (") + to_string(engine) + ")\n";
  // What the splitter must give back for each object, in order.
  std::vector<std::string_view> expected;
  expected.reserve(order.size());
  for (std::size_t i : order) {
    DumpObject& o = objects[i];
    sql::Script alone = sql::parse_script(o.sql, engine);
    if (!alone.ok() || alone.statements.size() != 1) {
      throw unsplittable(o, "does not split into exactly one statement");
    }
    const std::string& text = alone.statements[0].text;
    if (alone.statements[0].offset != 0 || !o.sql.starts_with(text)) {
      throw unsplittable(o, "is changed by the splitter (a \"-- only:\" line or a placeholder?)");
    }
    // What a migration runs, so what a restored database stores: without
    // the blanks and comments after the last token (SQLite keeps "CREATE
    // VIEW v AS SELECT 1 -- note" when the ';' came on the next line).
    o.sql.resize(text.size());
    out += '\n';
    out += o.sql;
    out += ";\n";
    expected.push_back(o.sql);
  }
  sql::Script whole = sql::parse_script(out, engine);
  bool same = whole.ok() && whole.statements.size() == expected.size();
  for (std::size_t k = 0; same && k < expected.size(); ++k) same = whole.statements[k].text == expected[k];
  if (!same) {
    // Each statement split alone; together they did not. Find the first culprit.
    std::size_t k = 0;
    while (k < expected.size() && k < whole.statements.size() && whole.statements[k].text == expected[k]) ++k;
    const DumpObject& culprit = objects[order[std::min(k, order.size() - 1)]];
    throw unsplittable(culprit, "runs into the statement next to it");
  }
  return out;
}

bool excluded_table(std::string_view table, const DumpOptions& options) {
  if (std::find(options.exclude_tables.begin(), options.exclude_tables.end(), table) !=
      options.exclude_tables.end()) {
    return true;
  }
  return !options.include_strata_tables && table.starts_with("strata_");
}

}  // namespace detail

std::string dump_schema(Connection& connection, const DumpOptions& options) {
  Engine engine = connection.engine();
  std::vector<detail::DumpObject> objects = engine == Engine::sqlite
                                                ? detail::read_sqlite_schema(connection, options)
                                                : detail::read_postgres_schema(connection, options);
  return detail::render_dump(engine, std::move(objects));
}

}  // namespace strata::schema
