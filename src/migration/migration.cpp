#include "strata/migration.hpp"

// SHA-384 through OpenSSL's low-level functions, which OpenSSL 3 marks
// deprecated in favour of EVP: EVP's first digest loads the provider
// machinery, about 1.1 ms of every strata process (5.4 M instructions, a
// twentieth of a no-op `up` at N=1000), for the same SHA-512 code underneath.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <memory>

#include "strata/error.hpp"
#include "strata/source.hpp"

namespace strata {

MigrationSet::MigrationSet(std::vector<Migration> migrations) : migrations_(std::move(migrations)) {
  // A loader's list comes sorted; std::sort would still move every element
  // (its final insertion pass), 1,000 Migration moves in a no-op `up`.
  auto by_version = [](const Migration& a, const Migration& b) { return a.version < b.version; };
  if (!std::is_sorted(migrations_.begin(), migrations_.end(), by_version)) {
    std::sort(migrations_.begin(), migrations_.end(), by_version);
  }
  for (std::size_t i = 1; i < migrations_.size(); ++i) {
    if (migrations_[i].version == migrations_[i - 1].version) {
      throw Error(ErrorKind::source, "two migrations claim version " +
                                         std::to_string(migrations_[i].version) + ": " +
                                         migrations_[i - 1].description + " and " +
                                         migrations_[i].description);
    }
  }
}

const Migration* MigrationSet::find(Version v) const {
  auto it = std::lower_bound(migrations_.begin(), migrations_.end(), v,
                             [](const Migration& m, Version x) { return m.version < x; });
  return it != migrations_.end() && it->version == v ? &*it : nullptr;
}

void MigrationSet::set_repeatables(std::vector<Migration> repeatables) {
  std::sort(repeatables.begin(), repeatables.end(),
            [](const Migration& a, const Migration& b) { return a.description < b.description; });
  repeatables_ = std::move(repeatables);
}

void MigrationSet::set_jumps(std::vector<Migration> jumps) {
  std::sort(jumps.begin(), jumps.end(), [](const Migration& a, const Migration& b) { return *a.jump_from < *b.jump_from; });
  jumps_ = std::move(jumps);
}

const Migration* MigrationSet::jump_to(Version to) const {
  for (const auto& j : jumps_) {
    if (j.version == to) return &j;
  }
  return nullptr;
}

const Migration* MigrationSet::jump_from(Version from) const {
  for (const auto& j : jumps_) {
    if (*j.jump_from == from) return &j;
  }
  return nullptr;
}

const Migration* MigrationSet::callback(std::string_view hook) const {
  auto it = callbacks_.find(hook);
  return it == callbacks_.end() ? nullptr : &it->second;
}

void MigrationSet::set_callbacks(std::map<std::string, Migration, std::less<>> callbacks) {
  callbacks_ = std::move(callbacks);
}

Version MigrationSet::latest() const {
  Version v = migrations_.empty() ? 0 : migrations_.back().version;
  for (const auto& j : jumps_) v = std::max(v, j.version);
  return v;
}

namespace {

std::string hex_of(const std::array<unsigned char, SHA384_DIGEST_LENGTH>& digest) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(digest.size() * 2, '0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string checksum(std::string_view text) {
  static constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.starts_with(bom)) text.remove_prefix(bom.size());

  SHA512_CTX ctx;  // SHA-384 is SHA-512 with other initial values, cut short
  if (SHA384_Init(&ctx) != 1) throw Error(ErrorKind::internal, "OpenSSL could not initialise SHA-384");
  // Feed the text in runs that end before each CR of a CRLF pair, so CRLF
  // hashes as LF without copying the file.
  std::size_t start = 0;
  for (std::size_t i = text.find('\r'); i != std::string_view::npos; i = text.find('\r', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '\n') {
      SHA384_Update(&ctx, text.data() + start, i - start);
      start = i + 1;
    }
  }
  SHA384_Update(&ctx, text.data() + start, text.size() - start);

  std::array<unsigned char, SHA384_DIGEST_LENGTH> digest{};
  SHA384_Final(digest.data(), &ctx);
  return hex_of(digest);
}

std::string raw_checksum(std::string_view text) {
  std::array<unsigned char, SHA384_DIGEST_LENGTH> digest{};
  SHA384(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return hex_of(digest);
}

std::string sqlx_checksum(const Migration& m) {
  if (m.kind != MigrationKind::sql) return m.checksum;
  // The raw bytes: a file the stat cache vouched for is read now.
  const std::string& text = up_sql(m);
  const bool normalised = text.starts_with("\xEF\xBB\xBF") || text.find('\r') != std::string::npos;
  return normalised ? raw_checksum(text) : m.checksum;
}

}  // namespace strata
