// File: engine/redis/link.cpp
#include "engine/redis/link.hpp"

#include "core/log.hpp"
#include "engine/redis/sentinel.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace gyre::engine::redis {

namespace asio = boost::asio;

namespace {

bool looks_like_pem(std::string_view s) {
    return s.find("-----BEGIN") != std::string_view::npos;
}

// Centrifugo's PEMData: PEM text, base64-encoded PEM, or a path to a PEM file. The value itself
// never goes into an error message: it may be a private key.
std::optional<std::string>
load_pem(const std::string& value, const char* what, std::string& error) {
    if (looks_like_pem(value)) {
        return value;
    }
    std::string compact;
    for (char c : value) {
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
            compact.push_back(c);
        }
    }
    if (!compact.empty() && compact.size() % 4 == 0) {
        std::string decoded(compact.size() / 4 * 3, '\0');
        const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                      reinterpret_cast<const unsigned char*>(compact.data()),
                                      static_cast<int>(compact.size()));
        if (n > 0 && looks_like_pem(decoded)) {
            return decoded;
        }
    }
    std::ifstream file(value, std::ios::binary);
    if (file) {
        std::ostringstream content;
        content << file.rdbuf();
        if (looks_like_pem(content.str())) {
            return content.str();
        }
        error = fmt::format("{}: file \"{}\" holds no PEM data", what, value);
        return std::nullopt;
    }
    error = fmt::format("{}: not PEM text, base64-encoded PEM, or a readable file", what);
    return std::nullopt;
}

// As Go's crypto/tls client with Centrifugo's settings: TLS 1.2 at least, the configured CAs or
// the system's, an optional client certificate.
std::shared_ptr<asio::ssl::context> make_tls_context(const tls_options& options,
                                                     std::string& error) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    if (options.insecure_skip_verify) {
        context->set_verify_mode(asio::ssl::verify_none);
    } else {
        context->set_verify_mode(asio::ssl::verify_peer);
        if (!options.server_ca_pem.empty()) {
            auto pem = load_pem(options.server_ca_pem, "server_ca_pem", error);
            if (!pem) {
                return nullptr;
            }
            context->add_certificate_authority(asio::buffer(*pem), ec);
            if (ec) {
                error = "server_ca_pem: " + ec.message();
                return nullptr;
            }
        } else {
            context->set_default_verify_paths(ec);
            if (ec) {
                error = "system CA certificates: " + ec.message();
                return nullptr;
            }
        }
    }
    if (!options.cert_pem.empty() || !options.key_pem.empty()) {
        auto cert = load_pem(options.cert_pem, "cert_pem", error);
        if (!cert) {
            return nullptr;
        }
        auto key = load_pem(options.key_pem, "key_pem", error);
        if (!key) {
            return nullptr;
        }
        context->use_certificate_chain(asio::buffer(*cert), ec);
        if (ec) {
            error = "cert_pem: " + ec.message();
            return nullptr;
        }
        context->use_private_key(asio::buffer(*key), asio::ssl::context::pem, ec);
        if (ec) {
            error = "key_pem: " + ec.message();
            return nullptr;
        }
    }
    return context;
}

} // namespace

const char* to_string(link_state s) noexcept {
    switch (s) {
    case link_state::connecting:
        return "connecting";
    case link_state::connected:
        return "connected";
    case link_state::disconnected:
        return "disconnected";
    case link_state::stopped:
        return "stopped";
    }
    return "unknown";
}

link::link(asio::io_context& context, address target, backoff_options backoff)
    : context_(context)
    , address_(std::move(target))
    , backoff_(backoff)
    , current_{address_.is_sentinel() ? std::string() : address_.host, address_.port}
    , sentinel_(address_.is_sentinel() ? sentinel_watch::create(context, address_) : nullptr)
    , socket_(context)
    , resolver_(context)
    , connect_timer_(context)
    , retry_timer_(context)
    , io_timer_(context)
    , read_buffer_(64 * 1024)
    , jitter_(std::random_device{}()) {}

link::~link() = default;

void link::start() {
    if (started_) {
        return;
    }
    started_ = true;
    connect();
}

void link::stop() {
    if (state_ == link_state::stopped) {
        return;
    }
    ++generation_;
    close_socket();
    retry_timer_.cancel();
    outgoing_.clear();
    if (sentinel_) {
        sentinel_->stop();
    }
    set_state(link_state::stopped);
    handle_down(fmt::format("redis {}: client stopped", label()));
}

void link::set_state(link_state s) {
    if (s == state_) {
        return;
    }
    state_ = s;
    if (state_hook_) {
        state_hook_(s);
    }
}

void link::close_socket() {
    boost::system::error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
    tls_.reset();
    connect_timer_.cancel();
    io_timer_.cancel();
    write_in_progress_ = false;
    handshake_.clear();
}

std::string link::label() const {
    if (address_.is_sentinel() && !current_.host.empty()) {
        return fmt::format("{} (master {})", address_.describe(), current_.describe());
    }
    return address_.describe();
}

void link::connect() {
    const auto generation = ++generation_;
    set_state(link_state::connecting);
    parser_.reset();
    if (!sentinel_) {
        dial();
        return;
    }
    // The Sentinels are asked on every connect, so a reconnect follows a failover. Each attempt
    // has its own connect_timeout; the master's starts once it is known.
    sentinel_->resolve([this, self = shared_from_this(), generation](std::optional<endpoint> master,
                                                                     const std::string& error) {
        if (generation != generation_ || state_ != link_state::connecting) {
            return;
        }
        if (!master) {
            fail("no Sentinel named the master: " + error);
            return;
        }
        current_ = std::move(*master);
        dial();
    });
}

void link::dial() {
    const auto generation = generation_;
    auto self = shared_from_this();
    connect_timer_.expires_after(address_.connect_timeout);
    connect_timer_.async_wait([this, self, generation](boost::system::error_code ec) {
        if (!ec && generation == generation_ && state_ == link_state::connecting) {
            fail(fmt::format("connect timeout after {}ms", address_.connect_timeout.count()));
        }
    });
    auto on_connect = [this, self, generation](boost::system::error_code ec) {
        if (generation != generation_) {
            return;
        }
        if (ec) {
            fail("connect failed: " + ec.message());
            return;
        }
        if (address_.tls.enabled) {
            start_tls();
            return;
        }
        on_connected();
    };
    if (address_.is_unix()) {
        socket_.async_connect(asio::local::stream_protocol::endpoint(address_.unix_path),
                              std::move(on_connect));
        return;
    }
    resolver_.async_resolve(
        current_.host,
        std::to_string(current_.port),
        [this, self, generation, on_connect = std::move(on_connect)](
            boost::system::error_code ec, asio::ip::tcp::resolver::results_type results) mutable {
            if (generation != generation_) {
                return;
            }
            if (ec || results.empty()) {
                fail("cannot resolve host: " + (ec ? ec.message() : std::string("no address")));
                return;
            }
            // First resolved address only: Redis hosts are one address in practice, and the
            // reconnect loop retries anyway.
            socket_.async_connect(
                asio::generic::stream_protocol::endpoint(results.begin()->endpoint()),
                std::move(on_connect));
        });
}

void link::start_tls() {
    const auto& options = address_.tls;
    if (!tls_context_) {
        std::string error;
        tls_context_ = make_tls_context(options, error);
        if (!tls_context_) {
            fail("TLS setup failed: " + error);
            return;
        }
    }
    if (!address_.is_unix()) {
        boost::system::error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    tls_ = std::make_shared<tls_stream>(socket_, *tls_context_);
    SSL* ssl = tls_->native_handle();
    const std::string& name = options.server_name.empty() ? current_.host : options.server_name;
    boost::system::error_code not_ip;
    asio::ip::make_address(name, not_ip);
    if (not_ip && !name.empty()) {
        SSL_ctrl(ssl,
                 SSL_CTRL_SET_TLSEXT_HOSTNAME,
                 TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(name.c_str())); // SNI takes names, never IP literals
    }
    if (!options.insecure_skip_verify && !name.empty()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (not_ip) {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
        } else {
            X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        }
    }
    const auto generation = generation_;
    tls_->async_handshake(
        asio::ssl::stream_base::client,
        [this, self = shared_from_this(), stream = tls_, generation](boost::system::error_code ec) {
            if (generation != generation_) {
                return;
            }
            if (ec) {
                std::string why = "TLS handshake failed: " + ec.message();
                const long verify = SSL_get_verify_result(stream->native_handle());
                if (verify != X509_V_OK) {
                    why += fmt::format(" ({})", X509_verify_cert_error_string(verify));
                }
                fail(why);
                return;
            }
            on_connected();
        });
}

void link::on_connected() {
    if (!address_.is_unix() && !tls_) {
        boost::system::error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    std::string handshake;
    if (!address_.password.empty()) {
        std::vector<std::string> auth{"AUTH"};
        if (!address_.user.empty()) {
            auth.push_back(address_.user);
        }
        auth.push_back(address_.password);
        append_command(handshake, auth);
        handshake_.push_back(handshake_step::auth);
    }
    if (address_.db != 0) {
        append_command(handshake, {"SELECT", std::to_string(address_.db)});
        handshake_.push_back(handshake_step::select);
    }
    if (!address_.client_name.empty()) {
        append_command(handshake, {"CLIENT", "SETNAME", address_.client_name});
        handshake_.push_back(handshake_step::setname);
    }
    if (sentinel_) {
        // A Sentinel may answer with a master that was just demoted; only a master will do.
        append_command(handshake, {"ROLE"});
        handshake_.push_back(handshake_step::role);
    }
    read_more();
    if (handshake_.empty()) {
        on_ready();
        return;
    }
    start_write(std::move(handshake));
}

void link::on_ready() {
    connect_timer_.cancel();
    next_delay_ = {};
    ++connect_count_;
    idle_ = true;
    set_state(link_state::connected);
    const auto generation = generation_;
    if (sentinel_) {
        std::weak_ptr<link> weak = weak_from_this();
        sentinel_->watch(current_, [weak, generation](const endpoint& master) {
            auto self = weak.lock();
            if (self && generation == self->generation_ && self->state_ == link_state::connected) {
                self->fail(fmt::format("Sentinel reports a new master {}", master.describe()));
            }
        });
    }
    handle_ready();
    if (generation == generation_) {
        flush();
    }
}

void link::handle_handshake_reply(const reply& r) {
    const auto step = handshake_.front();
    handshake_.pop_front();
    if (r.is_error()) {
        static constexpr const char* names[] = {"AUTH", "SELECT", "CLIENT SETNAME", "ROLE"};
        fail(fmt::format("{} failed: {}", names[static_cast<int>(step)], r.text));
        return;
    }
    if (step == handshake_step::role) {
        const bool master =
            r.type == reply::kind::array && !r.elements.empty() && r.elements[0].text == "master";
        if (!master) {
            fail(fmt::format("ROLE is \"{}\", not master; asking the Sentinels again",
                             r.type == reply::kind::array && !r.elements.empty()
                                 ? r.elements[0].text
                                 : std::string("?")));
            return;
        }
    }
    if (handshake_.empty()) {
        on_ready();
    }
}

template <typename Handler>
void link::async_read_some(Handler&& handler) {
    if (tls_) {
        tls_->async_read_some(
            asio::buffer(read_buffer_),
            [stream = tls_, h = std::forward<Handler>(handler)](
                boost::system::error_code ec, std::size_t n) mutable { h(ec, n); });
        return;
    }
    socket_.async_read_some(asio::buffer(read_buffer_), std::forward<Handler>(handler));
}

template <typename Handler>
void link::async_write_all(const std::shared_ptr<std::string>& bytes, Handler&& handler) {
    if (tls_) {
        asio::async_write(*tls_,
                          asio::buffer(*bytes),
                          [stream = tls_, h = std::forward<Handler>(handler)](
                              boost::system::error_code ec, std::size_t n) mutable { h(ec, n); });
        return;
    }
    asio::async_write(socket_, asio::buffer(*bytes), std::forward<Handler>(handler));
}

void link::read_more() {
    auto self = shared_from_this();
    const auto generation = generation_;
    async_read_some([this, self, generation](boost::system::error_code ec, std::size_t n) {
        if (generation != generation_) {
            return;
        }
        if (ec) {
            fail(ec == asio::error::eof ? std::string("connection closed by server")
                                        : "read failed: " + ec.message());
            return;
        }
        last_progress_ = std::chrono::steady_clock::now();
        if (!parser_.feed(std::string_view(read_buffer_.data(), n))) {
            fail("protocol error: " + parser_.error());
            return;
        }
        while (generation == generation_) {
            auto r = parser_.next();
            if (!r) {
                if (!parser_.error().empty()) {
                    fail("protocol error: " + parser_.error());
                    return;
                }
                break;
            }
            if (!handshake_.empty()) {
                handle_handshake_reply(*r);
            } else {
                handle_reply(std::move(*r));
            }
        }
        if (generation != generation_) {
            return; // a callback stopped or failed the link
        }
        if (!awaiting_replies()) {
            idle_ = true;
        }
        read_more();
    });
}

void link::enqueue_bytes(const std::vector<std::string>& command) {
    append_command(outgoing_, command);
    if (state_ == link_state::connected) {
        schedule_flush();
    }
}

void link::schedule_flush() {
    if (flush_posted_) {
        return;
    }
    flush_posted_ = true;
    asio::post(context_, [this, self = shared_from_this()] {
        flush_posted_ = false;
        flush();
    });
}

void link::flush() {
    if (state_ != link_state::connected || write_in_progress_ || outgoing_.empty()) {
        return;
    }
    if (idle_) {
        // The io_timeout clock starts when the first outstanding command leaves.
        last_progress_ = std::chrono::steady_clock::now();
        idle_ = false;
    }
    std::string bytes;
    bytes.swap(outgoing_);
    start_write(std::move(bytes));
    arm_io_watchdog();
}

void link::start_write(std::string bytes) {
    write_in_progress_ = true;
    ++write_count_;
    // The buffer lives in the handler, so a write cancelled by a reconnect never sees a new one.
    auto buffer = std::make_shared<std::string>(std::move(bytes));
    const auto generation = generation_;
    async_write_all(
        buffer,
        [this, self = shared_from_this(), buffer, generation](boost::system::error_code ec,
                                                              std::size_t) {
            if (generation != generation_) {
                return;
            }
            write_in_progress_ = false;
            if (ec) {
                fail("write failed: " + ec.message());
                return;
            }
            flush(); // whatever was queued while this write was in flight, in one more write
        });
}

void link::arm_io_watchdog() {
    if (io_timer_armed_ || !awaiting_replies()) {
        return;
    }
    io_timer_armed_ = true;
    const auto generation = generation_;
    const auto deadline = last_progress_ + address_.io_timeout;
    io_timer_.expires_at(deadline);
    io_timer_.async_wait([this, self = shared_from_this(), generation](boost::system::error_code) {
        io_timer_armed_ = false;
        if (generation != generation_ || state_ != link_state::connected || idle_ ||
            !awaiting_replies()) {
            return;
        }
        if (std::chrono::steady_clock::now() - last_progress_ >= address_.io_timeout) {
            fail(fmt::format("no reply within io_timeout {}ms", address_.io_timeout.count()));
            return;
        }
        arm_io_watchdog();
    });
}

void link::fail(const std::string& why) {
    if (state_ == link_state::stopped) {
        return;
    }
    ++generation_;
    close_socket();
    outgoing_.clear();
    if (sentinel_) {
        sentinel_->unwatch();
    }
    last_error_ = fmt::format("redis {}: {}", label(), why);
    GYRE_LOG_WARN("redis link down addr={} reason=\"{}\"", label(), why);
    set_state(link_state::disconnected);
    handle_down(last_error_);
    if (state_ == link_state::disconnected) {
        schedule_reconnect();
    }
}

void link::schedule_reconnect() {
    auto delay = next_delay_.count() == 0 ? backoff_.initial : next_delay_;
    next_delay_ = std::min(delay * 2, backoff_.max);
    // Jitter in [delay/2, delay] so many nodes do not reconnect in lockstep after a restart.
    const auto half = delay.count() / 2;
    std::uniform_int_distribution<long long> spread(0, half > 0 ? half : 0);
    const auto wait = std::chrono::milliseconds(delay.count() - half + spread(jitter_));
    const auto generation = generation_;
    retry_timer_.expires_after(wait);
    retry_timer_.async_wait(
        [this, self = shared_from_this(), generation](boost::system::error_code ec) {
            if (!ec && generation == generation_ && state_ == link_state::disconnected) {
                connect();
            }
        });
}

} // namespace gyre::engine::redis
