/* The TLS engine: what the agent asks of the separately loaded module (hostprint-tls.so) that
 * holds every call into OpenSSL. The agent loads it only when TLS is configured, so a host
 * without TLS never maps libssl and libcrypto (about 1.8 MiB of resident memory).
 *
 * The engine does no I/O: the agent gives it the bytes read from the peer and sends the bytes
 * it takes from it, in between calls (OpenSSL over memory BIOs). Plain C, so that the module
 * shares no C++ runtime or Boost state with the agent. */
#ifndef HOSTPRINT_TLS_ENGINE_H
#define HOSTPRINT_TLS_ENGINE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever this table or the meaning of a call changes. */
#define HP_TLS_ABI 1

/* What handshake, read, write and shutdown return. */
enum hp_tls_result {
  HP_TLS_DONE = 0,        /* finished (read: `*done` bytes; 0 never means the end) */
  HP_TLS_WANT_INPUT = 1,  /* needs more bytes from the peer: send the pending output, read */
  HP_TLS_CLOSED = 2,      /* the peer sent close_notify (read), or the shutdown is complete */
  HP_TLS_FAILED = 3       /* a protocol or certificate failure: hp_tls_error says which */
};

/* Which failure, for the agent's log and its choice of level. */
enum hp_tls_failure {
  HP_TLS_FAILURE_OTHER = 0,
  HP_TLS_FAILURE_PLAIN_HTTP = 1  /* the peer spoke plain HTTP to the TLS port */
};

/* Which file of the pair a context could not be made from. */
enum hp_tls_context_failure {
  HP_TLS_BAD_CERTIFICATE = 1,
  HP_TLS_BAD_KEY = 2,
  HP_TLS_KEY_MISMATCH = 3,
  HP_TLS_NO_MEMORY = 4
};

struct hp_tls_context;
struct hp_tls_connection;

struct hp_tls_api {
  int abi; /* HP_TLS_ABI */

  /* A server context for TLS 1.2 and 1.3 from a PEM certificate chain and a PEM private key
   * (not encrypted). On failure: null, `*failure` set, and OpenSSL's reason in `reason`. */
  struct hp_tls_context* (*context_new)(const char* cert_pem, size_t cert_size,
                                        const char* key_pem, size_t key_size, int* failure,
                                        char* reason, size_t reason_size);
  void (*context_free)(struct hp_tls_context* context);
  /* "subject /CN=..., serial 03E9, expires 2027-01-01" */
  void (*context_describe)(const struct hp_tls_context* context, char* out, size_t out_size);

  /* A server-side connection; null when out of memory. */
  struct hp_tls_connection* (*connection_new)(struct hp_tls_context* context);
  void (*connection_free)(struct hp_tls_connection* connection);

  int (*handshake)(struct hp_tls_connection* connection);
  int (*read)(struct hp_tls_connection* connection, void* data, size_t size, size_t* done);
  /* Encrypts all `size` bytes (the output grows by about as much), or fails. */
  int (*write)(struct hp_tls_connection* connection, const void* data, size_t size, size_t* done);
  /* Sends close_notify; DONE once it is queued (the peer's answer is not awaited). */
  int (*shutdown)(struct hp_tls_connection* connection);

  /* The peer's bytes, as read: all are taken. */
  int (*give_input)(struct hp_tls_connection* connection, const void* data, size_t size);
  /* How many bytes wait to be sent, and up to `size` of them taken into `data`. */
  size_t (*pending_output)(const struct hp_tls_connection* connection);
  size_t (*take_output)(struct hp_tls_connection* connection, void* data, size_t size);

  /* After FAILED: an hp_tls_failure, and OpenSSL's reason in `reason`. */
  int (*error)(const struct hp_tls_connection* connection, char* reason, size_t reason_size);
};

/* The module's one exported symbol. */
const struct hp_tls_api* hostprint_tls_api(void);

#ifdef __cplusplus
}
#endif

#endif
