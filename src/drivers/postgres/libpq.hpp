// libpq, loaded when the first PostgreSQL connection is opened.
//
// strata links libpq at run time (dlopen of its soname, libpq.so.5) rather
// than at build time: libpq pulls in some twenty libraries (Kerberos, LDAP,
// GnuTLS, SASL, ...) whose loading and start-up code cost every strata process
// about 4 ms, a third of a no-op `strata up` on SQLite, which never needs
// them. Types and constants still come from <libpq-fe.h> at build time.
//
// Contract: libpq() is thread-safe. The first call loads the library and
// resolves every function below; if that fails it throws
// Error(ErrorKind::connection) naming the library and the loader's reason
// (e.g. "libpq.so.5: cannot open shared object file"), and a later call tries
// again. Once it has returned, it never throws and the table stays valid for
// the life of the process (the library is never unloaded).
#pragma once

#include <libpq-fe.h>

namespace strata::detail {

// Every libpq function the driver calls.
#define STRATA_LIBPQ_FUNCTIONS(X) \
  X(PQcmdStatus)                  \
  X(PQcmdTuples)                  \
  X(PQclear)                      \
  X(PQconnectdbParams)            \
  X(PQdescribePrepared)           \
  X(PQerrorMessage)               \
  X(PQexec)                       \
  X(PQexecParams)                 \
  X(PQfinish)                     \
  X(PQfname)                      \
  X(PQfreemem)                    \
  X(PQftable)                     \
  X(PQftablecol)                  \
  X(PQftype)                      \
  X(PQgetCopyData)                \
  X(PQgetResult)                  \
  X(PQgetisnull)                  \
  X(PQgetlength)                  \
  X(PQgetvalue)                   \
  X(PQnfields)                    \
  X(PQnparams)                    \
  X(PQntuples)                    \
  X(PQparamtype)                  \
  X(PQprepare)                    \
  X(PQputCopyData)                \
  X(PQputCopyEnd)                 \
  X(PQresultErrorField)           \
  X(PQresultErrorMessage)         \
  X(PQresultStatus)               \
  X(PQserverVersion)              \
  X(PQsetNoticeProcessor)         \
  X(PQstatus)                     \
  X(PQtransactionStatus)

struct LibPq {
#define STRATA_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  STRATA_LIBPQ_FUNCTIONS(STRATA_LIBPQ_MEMBER)
#undef STRATA_LIBPQ_MEMBER
};

// The loaded library's functions; see the contract above.
const LibPq& libpq();

}  // namespace strata::detail
