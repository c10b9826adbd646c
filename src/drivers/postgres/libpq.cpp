#include "drivers/postgres/libpq.hpp"

#include <dlfcn.h>

#include <string>
#include <type_traits>

#include "strata/error.hpp"

namespace strata::detail {
namespace {

constexpr const char* kLibPq = "libpq.so.5";

LibPq load() {
  // RTLD_LOCAL: libpq's symbols stay out of the global namespace; the handle
  // is deliberately never closed.
  void* handle = dlopen(kLibPq, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw Error(ErrorKind::connection, std::string("cannot load the PostgreSQL client library: ") +
                                           (why != nullptr ? why : kLibPq) +
                                           " (install libpq5, e.g. apt-get install libpq5)");
  }
  LibPq api;
  auto resolve = [&](auto& slot, const char* name) {
    void* symbol = dlsym(handle, name);
    if (symbol == nullptr) {
      throw Error(ErrorKind::connection,
                  std::string("cannot load the PostgreSQL client library: ") + kLibPq + " has no " + name);
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
  };
#define STRATA_LIBPQ_RESOLVE(name) resolve(api.name, #name);
  STRATA_LIBPQ_FUNCTIONS(STRATA_LIBPQ_RESOLVE)
#undef STRATA_LIBPQ_RESOLVE
  return api;
}

}  // namespace

const LibPq& libpq() {
  static const LibPq api = load();  // a throw leaves it uninitialised: the next call retries
  return api;
}

}  // namespace strata::detail
