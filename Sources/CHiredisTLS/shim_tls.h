/*
 * TLS for a hiredis context through hiredis_ssl (hiredis >= 1.0) and OpenSSL, built only with the
 * package trait TLS.
 *
 * The client builds its own OpenSSL objects rather than hiredis's redisSSLContext because
 * hiredis before 1.5 only checks the certificate chain, not that it names the server: here the
 * host name (or IP address) is checked too.
 *
 * Threads: every function below runs on the connection's I/O thread, like every other hiredis
 * call on that context; that thread blocks SIGPIPE, so a TLS write to a closed socket fails with
 * EPIPE instead of ending the process.
 *
 * Ownership: chr_tls_connect creates the SSL_CTX and frees it before returning (the SSL object
 * keeps its own reference, so the context is freed exactly once, with the SSL object). On success
 * the SSL object belongs to hiredis, which frees it in redisFree; on failure it is freed here.
 */
#ifndef CHIREDIS_TLS_SHIM_H
#define CHIREDIS_TLS_SHIM_H

#include <hiredis/hiredis.h>
#include <hiredis/hiredis_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* Which step of chr_tls_connect failed. */
typedef enum {
    CHR_TLS_OK = 0,
    CHR_TLS_CONTEXT = 1,     /* OpenSSL could not create a context or SSL object */
    CHR_TLS_CA = 2,          /* the CA file or folder (or the system's store) could not be loaded */
    CHR_TLS_CERTIFICATE = 3, /* the client certificate could not be loaded */
    CHR_TLS_KEY = 4,         /* the client key could not be loaded, or does not match the certificate */
    CHR_TLS_SERVER_NAME = 5, /* the name to check could not be set */
    CHR_TLS_HANDSHAKE = 6,   /* the handshake failed: see the context's errstr and verify_result */
} chr_tls_status;

/* The options of one connection; NULL strings are unset. verify: check the server's certificate
 * against the CAs (the system's when neither ca_file nor ca_path is set) and server_name. */
typedef struct {
    const char *ca_file;
    const char *ca_path;
    const char *cert_file;
    const char *key_file;
    const char *key_passphrase;
    const char *server_name;
    int verify;
} chr_tls_options;

/* Copies the reason of the newest OpenSSL error (or "" when there is none) into text. */
static inline void chr_tls_error_reason(char *text, size_t size) {
    if (size == 0) return;
    text[0] = '\0';
    unsigned long code = ERR_peek_last_error();
    if (code == 0) return;
    const char *reason = ERR_reason_error_string(code);
    if (reason != NULL) snprintf(text, size, "%s", reason);
    else ERR_error_string_n(code, text, size);
}

/* Hands OpenSSL the key's passphrase, or fails (never prompts on a terminal) when there is none. */
static inline int chr_tls_passphrase(char *buffer, int size, int rwflag, void *userdata) {
    (void)rwflag;
    if (userdata == NULL || size <= 0) return -1;
    size_t length = strlen((const char *)userdata);
    if (length >= (size_t)size) return -1;
    memcpy(buffer, userdata, length);
    return (int)length;
}

static inline int chr_tls_is_ip_address(const char *name) {
    unsigned char address[16];
    return inet_pton(AF_INET, name, address) == 1 || inet_pton(AF_INET6, name, address) == 1;
}

/* An OpenSSL client context for the options, or NULL with *status set. */
static inline SSL_CTX *chr_tls_context(const chr_tls_options *options, chr_tls_status *status) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) { *status = CHR_TLS_CONTEXT; return NULL; }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_mode(context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(context, chr_tls_passphrase);
    if (options->verify) {
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
        int loaded = (options->ca_file != NULL || options->ca_path != NULL)
            ? SSL_CTX_load_verify_locations(context, options->ca_file, options->ca_path)
            : SSL_CTX_set_default_verify_paths(context);
        if (loaded != 1) { *status = CHR_TLS_CA; SSL_CTX_free(context); return NULL; }
    } else {
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
    }
    if (options->cert_file != NULL) {
        if (SSL_CTX_use_certificate_chain_file(context, options->cert_file) != 1) {
            *status = CHR_TLS_CERTIFICATE; SSL_CTX_free(context); return NULL;
        }
        /* The passphrase is only borrowed for this call: the context keeps no pointer to it. */
        SSL_CTX_set_default_passwd_cb_userdata(context, (void *)options->key_passphrase);
        int keyed = SSL_CTX_use_PrivateKey_file(context, options->key_file, SSL_FILETYPE_PEM) == 1
            && SSL_CTX_check_private_key(context) == 1;
        SSL_CTX_set_default_passwd_cb_userdata(context, NULL);
        if (!keyed) { *status = CHR_TLS_KEY; SSL_CTX_free(context); return NULL; }
    }
    return context;
}

/*
 * Runs the TLS handshake on a connected (blocking) context: SNI with server_name when it is a
 * host name (never for an IP address), and, when verifying, a check that the certificate names
 * server_name. On success returns CHR_TLS_OK and stores the SSL object (owned by hiredis) in
 * *ssl_out, for chr_tls_peer_closed. On failure *verify_result holds OpenSSL's certificate
 * verdict (X509_V_OK when the certificate was not the problem) and reason the OpenSSL error.
 */
static inline chr_tls_status chr_tls_connect(redisContext *c, const chr_tls_options *options, SSL **ssl_out,
                                             long *verify_result, char *reason, size_t reason_size) {
    *ssl_out = NULL;
    *verify_result = X509_V_OK;
    if (reason_size > 0) reason[0] = '\0';
    ERR_clear_error();
    chr_tls_status status = CHR_TLS_OK;
    SSL_CTX *context = chr_tls_context(options, &status);
    if (context == NULL) { chr_tls_error_reason(reason, reason_size); ERR_clear_error(); return status; }
    SSL *ssl = SSL_new(context);
    SSL_CTX_free(context); /* the SSL object holds its own reference from here on */
    if (ssl == NULL) { chr_tls_error_reason(reason, reason_size); ERR_clear_error(); return CHR_TLS_CONTEXT; }
    const char *name = options->server_name;
    int is_ip = chr_tls_is_ip_address(name);
    if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1) status = CHR_TLS_SERVER_NAME;
    if (status == CHR_TLS_OK && options->verify) {
        X509_VERIFY_PARAM *parameters = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(parameters, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(parameters, name)
                          : X509_VERIFY_PARAM_set1_host(parameters, name, 0);
        if (named != 1) status = CHR_TLS_SERVER_NAME;
    }
    if (status == CHR_TLS_OK && redisInitiateSSL(c, ssl) != REDIS_OK) {
        status = CHR_TLS_HANDSHAKE;
        *verify_result = SSL_get_verify_result(ssl);
    }
    if (status != CHR_TLS_OK) {
        chr_tls_error_reason(reason, reason_size);
        ERR_clear_error();
        SSL_free(ssl);
        return status;
    }
    *ssl_out = ssl;
    return CHR_TLS_OK;
}

/* OpenSSL's text for a certificate verdict, e.g. "certificate has expired". */
static inline const char *chr_tls_verify_text(long verify_result) {
    return X509_verify_cert_error_string(verify_result);
}

/*
 * True when the server closed this idle TLS connection (or it failed). A readable socket alone
 * does not say so: TLS 1.3 servers send session tickets after the handshake. So the records
 * waiting are read without blocking: a close, an error or application data nobody asked for
 * means closed; nothing left to read means open.
 */
static inline int chr_tls_peer_closed(const redisContext *c, SSL *ssl) {
    int fd = (int)c->fd;
    struct pollfd p = { fd, POLLIN, 0 };
    int ready = poll(&p, 1, 0);
    if (ready == 0) return 0;
    if (ready < 0 || (p.revents & (POLLERR | POLLNVAL))) return 1;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return 1;
    char byte;
    ERR_clear_error();
    int read = SSL_peek(ssl, &byte, 1);
    int error = SSL_get_error(ssl, read);
    ERR_clear_error();
    if (fcntl(fd, F_SETFL, flags) < 0) return 1;
    if (read > 0) return 1;
    return !(error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE);
}

/* Copies the reason of the newest OpenSSL error into text and empties OpenSSL's error queue
 * (called after a failed TLS read or write, whose text hiredis leaves generic). */
static inline void chr_tls_take_error(char *text, size_t size) {
    chr_tls_error_reason(text, size);
    ERR_clear_error();
}

#endif
