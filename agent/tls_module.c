/* hostprint-tls.so: the TLS engine over OpenSSL (see tls_engine.h). Loaded by the agent only
 * when TLS is configured. */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/tls_engine.h"

#define EXPORT __attribute__((visibility("default")))

struct hp_tls_context {
  SSL_CTX* ssl;
};

struct hp_tls_connection {
  SSL* ssl;
  BIO* input;   /* the peer's bytes, read by OpenSSL */
  BIO* output;  /* OpenSSL's bytes, to send */
  int failure;  /* an hp_tls_failure, after FAILED */
  char reason[160];
};

static void copy_text(char* out, size_t size, const char* text) {
  if (size == 0) return;
  snprintf(out, size, "%s", text);
}

/* OpenSSL's reason for the last failure (the queue is left empty); its reason code, or 0. */
static int take_reason(char* out, size_t size) {
  unsigned long code = ERR_peek_last_error();
  int reason = 0;
  if (code != 0) {
    const char* text = ERR_reason_error_string(code);
    char buffer[256];
    if (!text) {
      ERR_error_string_n(code, buffer, sizeof buffer);
      text = buffer;
    }
    copy_text(out, size, text);
    reason = ERR_GET_REASON(code);
  } else {
    copy_text(out, size, "unknown OpenSSL error");
  }
  ERR_clear_error();
  return reason;
}

/* An encrypted key would make OpenSSL prompt on the terminal: answer for it, with nothing. */
static int no_passphrase(char* buffer, int size, int writing, void* data) {
  (void)buffer;
  (void)size;
  (void)writing;
  (void)data;
  return 0;
}

/* The first certificate is the server's, any further ones its chain. */
static int use_chain(SSL_CTX* ssl, const char* pem, size_t size) {
  BIO* in = BIO_new_mem_buf(pem, (int)size);
  if (!in) return 0;
  int ok = 0;
  X509* cert = PEM_read_bio_X509_AUX(in, NULL, no_passphrase, NULL);
  if (cert && SSL_CTX_use_certificate(ssl, cert) == 1 && SSL_CTX_clear_chain_certs(ssl) == 1) {
    ok = 1;
    X509* next;
    while (ok && (next = PEM_read_bio_X509(in, NULL, no_passphrase, NULL)) != NULL) {
      if (SSL_CTX_add0_chain_cert(ssl, next) != 1) {
        X509_free(next);
        ok = 0;
      }
    }
    if (ok) {
      /* The end of the file, seen as a missing "-----BEGIN", is no failure. */
      unsigned long last = ERR_peek_last_error();
      if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)
        ERR_clear_error();
      else if (last != 0)
        ok = 0;
    }
  }
  X509_free(cert);
  BIO_free(in);
  return ok;
}

static struct hp_tls_context* context_new(const char* cert_pem, size_t cert_size,
                                          const char* key_pem, size_t key_size, int* failure,
                                          char* reason, size_t reason_size) {
  ERR_clear_error();
  copy_text(reason, reason_size, "");
  struct hp_tls_context* context = calloc(1, sizeof *context);
  SSL_CTX* ssl = SSL_CTX_new(TLS_server_method());
  if (!context || !ssl) {
    *failure = HP_TLS_NO_MEMORY;
    take_reason(reason, reason_size);
    free(context);
    SSL_CTX_free(ssl);
    return NULL;
  }
  /* TLS 1.2 and 1.3 only; security level 2 (112-bit keys, no SHA-1 signatures) with OpenSSL's
   * default ciphers. No renegotiation (a client could make the server pay for handshakes at
   * will), no compression (CRIME), and no client certificates (the server never asks). */
  SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ssl, 0);
  SSL_CTX_set_security_level(ssl, 2);
  SSL_CTX_set_options(ssl, SSL_OP_ALL | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                               SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_verify(ssl, SSL_VERIFY_NONE, NULL);
  /* Idle connections give their read and write buffers back (about 34 KiB each). */
  SSL_CTX_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_passwd_cb(ssl, no_passphrase);

  if (!use_chain(ssl, cert_pem, cert_size)) {
    *failure = HP_TLS_BAD_CERTIFICATE;
    take_reason(reason, reason_size);
    SSL_CTX_free(ssl);
    free(context);
    return NULL;
  }
  BIO* in = BIO_new_mem_buf(key_pem, (int)key_size);
  EVP_PKEY* key = in ? PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL) : NULL;
  BIO_free(in);
  int used = key ? SSL_CTX_use_PrivateKey(ssl, key) : 0;
  EVP_PKEY_free(key);
  if (used != 1) {
    /* OpenSSL compares the key with the certificate as it loads it. */
    unsigned long last = ERR_peek_last_error();
    *failure = ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH ? HP_TLS_KEY_MISMATCH
                                                                  : HP_TLS_BAD_KEY;
    take_reason(reason, reason_size);
    SSL_CTX_free(ssl);
    free(context);
    return NULL;
  }
  if (SSL_CTX_check_private_key(ssl) != 1) {
    *failure = HP_TLS_KEY_MISMATCH;
    take_reason(reason, reason_size);
    SSL_CTX_free(ssl);
    free(context);
    return NULL;
  }
  context->ssl = ssl;
  return context;
}

static void context_free(struct hp_tls_context* context) {
  if (!context) return;
  SSL_CTX_free(context->ssl);
  free(context);
}

static void context_describe(const struct hp_tls_context* context, char* out, size_t size) {
  X509* cert = SSL_CTX_get0_certificate(context->ssl);
  if (!cert) {
    copy_text(out, size, "no certificate");
    return;
  }
  char subject[256] = {0};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  char serial_text[96] = {0};
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  BIGNUM* bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
  char* hex = bn ? BN_bn2hex(bn) : NULL;
  if (hex) snprintf(serial_text, sizeof serial_text, ", serial %.64s", hex);
  OPENSSL_free(hex);
  BN_free(bn);
  char expiry_text[48] = {0};
  struct tm expiry;
  memset(&expiry, 0, sizeof expiry);
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &expiry) == 1)
    snprintf(expiry_text, sizeof expiry_text, ", expires %04d-%02d-%02d", expiry.tm_year + 1900,
             expiry.tm_mon + 1, expiry.tm_mday);
  snprintf(out, size, "subject %s%s%s", subject, serial_text, expiry_text);
  ERR_clear_error();
}

static struct hp_tls_connection* connection_new(struct hp_tls_context* context) {
  struct hp_tls_connection* c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->ssl = SSL_new(context->ssl);
  c->input = BIO_new(BIO_s_mem());
  c->output = BIO_new(BIO_s_mem());
  if (!c->ssl || !c->input || !c->output) {
    SSL_free(c->ssl);
    BIO_free(c->input);
    BIO_free(c->output);
    free(c);
    ERR_clear_error();
    return NULL;
  }
  /* An empty input is "not yet", never the end: the agent tells the end itself. */
  BIO_set_mem_eof_return(c->input, -1);
  BIO_set_mem_eof_return(c->output, -1);
  SSL_set_bio(c->ssl, c->input, c->output);  /* SSL_free frees both */
  SSL_set_accept_state(c->ssl);
  return c;
}

static void connection_free(struct hp_tls_connection* c) {
  if (!c) return;
  SSL_free(c->ssl);
  free(c);
}

/* What an OpenSSL call that returned `result` <= 0 means. */
static int outcome(struct hp_tls_connection* c, int result) {
  switch (SSL_get_error(c->ssl, result)) {
    case SSL_ERROR_WANT_READ:
      ERR_clear_error();
      return HP_TLS_WANT_INPUT;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return HP_TLS_CLOSED;
    case SSL_ERROR_SSL: {
      int reason = take_reason(c->reason, sizeof c->reason);
      c->failure = reason == SSL_R_HTTP_REQUEST ? HP_TLS_FAILURE_PLAIN_HTTP : HP_TLS_FAILURE_OTHER;
      return HP_TLS_FAILED;
    }
    default:
      /* With memory BIOs nothing else should happen; said as it is if it does. */
      take_reason(c->reason, sizeof c->reason);
      c->failure = HP_TLS_FAILURE_OTHER;
      return HP_TLS_FAILED;
  }
}

static int handshake(struct hp_tls_connection* c) {
  ERR_clear_error();
  int r = SSL_do_handshake(c->ssl);
  return r == 1 ? HP_TLS_DONE : outcome(c, r);
}

static int read_data(struct hp_tls_connection* c, void* data, size_t size, size_t* done) {
  ERR_clear_error();
  *done = 0;
  int r = SSL_read_ex(c->ssl, data, size, done);
  return r == 1 ? HP_TLS_DONE : outcome(c, r);
}

static int write_data(struct hp_tls_connection* c, const void* data, size_t size, size_t* done) {
  ERR_clear_error();
  *done = 0;
  int r = SSL_write_ex(c->ssl, data, size, done);
  return r == 1 ? HP_TLS_DONE : outcome(c, r);
}

static int shutdown_connection(struct hp_tls_connection* c) {
  ERR_clear_error();
  int r = SSL_shutdown(c->ssl);
  /* 0: our close_notify is queued, the peer's not yet seen; that is all the agent waits for. */
  return r >= 0 ? HP_TLS_DONE : outcome(c, r);
}

static int give_input(struct hp_tls_connection* c, const void* data, size_t size) {
  while (size > 0) {
    int chunk = size > 1 << 30 ? 1 << 30 : (int)size;
    int n = BIO_write(c->input, data, chunk);
    if (n <= 0) {
      ERR_clear_error();
      return -1;
    }
    data = (const char*)data + n;
    size -= (size_t)n;
  }
  return 0;
}

static size_t pending_output(const struct hp_tls_connection* c) {
  return BIO_ctrl_pending(c->output);
}

static size_t take_output(struct hp_tls_connection* c, void* data, size_t size) {
  int chunk = size > 1 << 30 ? 1 << 30 : (int)size;
  int n = BIO_read(c->output, data, chunk);
  return n > 0 ? (size_t)n : 0;
}

static int error_of(const struct hp_tls_connection* c, char* reason, size_t size) {
  copy_text(reason, size, c->reason[0] ? c->reason : "unknown OpenSSL error");
  return c->failure;
}

static const struct hp_tls_api api = {
    HP_TLS_ABI,     context_new, context_free,   context_describe, connection_new,
    connection_free, handshake,  read_data,      write_data,       shutdown_connection,
    give_input,     pending_output, take_output, error_of};

EXPORT const struct hp_tls_api* hostprint_tls_api(void) { return &api; }
