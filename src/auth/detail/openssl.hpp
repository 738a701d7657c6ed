// File: auth/detail/openssl.hpp
// unique_ptr deleters for the OpenSSL objects auth/ creates, so every object is released on
// every path (verification runs on untrusted input; the tests run under LeakSanitizer).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

namespace gyre::auth::detail {

template <auto Free>
struct openssl_free {
    template <typename T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using bio_free = openssl_free<&BIO_free>;
using x509_free = openssl_free<&X509_free>;
using md_ctx_free = openssl_free<&EVP_MD_CTX_free>;
using bn_free = openssl_free<&BN_free>;
using ecdsa_sig_free = openssl_free<&ECDSA_SIG_free>;
using param_bld_free = openssl_free<&OSSL_PARAM_BLD_free>;
using param_free = openssl_free<&OSSL_PARAM_free>;
using pkey_ctx_free = openssl_free<&EVP_PKEY_CTX_free>;

} // namespace gyre::auth::detail
