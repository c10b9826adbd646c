#include "strata/migration.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

#include "strata/error.hpp"

namespace strata {

MigrationSet::MigrationSet(std::vector<Migration> migrations) : migrations_(std::move(migrations)) {
  std::sort(migrations_.begin(), migrations_.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
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

Version MigrationSet::latest() const { return migrations_.empty() ? 0 : migrations_.back().version; }

namespace {

// The SHA-384 implementation, fetched once: EVP_sha384() would make OpenSSL
// look it up again on every call. Thread-safe (a function-local static).
const EVP_MD* sha384() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  if (md == nullptr) throw Error(ErrorKind::internal, "OpenSSL has no SHA-384");
  return md;
}

// One digest context per thread, reused for every checksum.
EVP_MD_CTX* digest_context() {
  struct Owner {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Owner() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Owner owner;
  return owner.ctx;
}

}  // namespace

std::string checksum(std::string_view text) {
  static constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.starts_with(bom)) text.remove_prefix(bom.size());

  EVP_MD_CTX* ctx = digest_context();
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, sha384(), nullptr) != 1) {
    throw Error(ErrorKind::internal, "OpenSSL could not initialise SHA-384");
  }
  // Feed the text in runs that end before each CR of a CRLF pair, so CRLF
  // hashes as LF without copying the file.
  std::size_t start = 0;
  for (std::size_t i = text.find('\r'); i != std::string_view::npos; i = text.find('\r', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '\n') {
      EVP_DigestUpdate(ctx, text.data() + start, i - start);
      start = i + 1;
    }
  }
  EVP_DigestUpdate(ctx, text.data() + start, text.size() - start);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest.data(), &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace strata
