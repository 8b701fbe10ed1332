// schedy-loadgen: K concurrent workers against a running schedy-server, each
// running the worker loop of docs/protocol.md section 5 as fast as it can:
//
//   GET nextjob/ -> PUT jobs/ID/ {"status":"RUNNING"} + If-Match
//                -> PUT jobs/ID/ {"status":"DONE","results":{...}} + If-Match
//
// and printing cycles/s, requests/s and latency percentiles.
//
// The hot path is plain POSIX sockets with HTTP/1.1 keep-alive, one blocking
// connection and one thread per worker, so that on a small machine the
// generator takes as little CPU as possible away from the server it measures.
// QtCore is only used for arguments and the client config. Only servers on
// the loopback interface are accepted.
#include "ClientConfig.h"

#include <QCborValue>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrl>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int MaxWorkers = 256;
constexpr double MaxSeconds = 3600;
constexpr long long MaxCycles = 100'000'000;
constexpr size_t MaxResponseBytes = 16 * 1024 * 1024;

inline int64_t micros(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

// ---- a minimal HTTP/1.1 client over one keep-alive connection ----------------------

struct Response
{
    int status = 0; // 0: transport error
    std::string etag;
    std::string body;
};

class Connection
{
public:
    Connection(uint32_t addressBe, uint16_t port)
        : m_address(addressBe)
        , m_port(port)
    {}
    ~Connection() { close(); }
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Sends one request and reads its response; reconnects (once) when the
    // server had closed the idle connection before the request was sent.
    Response request(const char *method, const std::string &path, const std::string &headers,
                     const std::string &body)
    {
        std::string &out = m_out;
        out.clear();
        out += method;
        out += ' ';
        out += path;
        out += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        out += headers;
        if (!body.empty() || std::strcmp(method, "GET") != 0) {
            out += "Content-Length: ";
            out += std::to_string(body.size());
            out += "\r\n";
        }
        out += "\r\n";
        out += body;
        for (int attempt = 0; attempt < 2; ++attempt) {
            const bool reused = m_fd >= 0;
            if (m_fd < 0 && !open())
                return {};
            if (!sendAll(out)) {
                close();
                if (reused)
                    continue;
                return {};
            }
            Response r;
            const ReadResult rr = readResponse(&r);
            if (rr == ReadResult::Ok)
                return r;
            close();
            // A connection the server closed before reading anything: retry once.
            if (rr == ReadResult::ClosedBeforeAnyByte && reused)
                continue;
            return {};
        }
        return {};
    }

    void close()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
        m_in.clear();
    }

    std::string lastError;

private:
    enum class ReadResult { Ok, ClosedBeforeAnyByte, Failed };

    bool open()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (m_fd < 0)
            return fail("socket");
        const int one = 1;
        ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        timeval tv{30, 0}; // a stuck server must not hang the benchmark
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(m_port);
        a.sin_addr.s_addr = m_address;
        if (::connect(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
            fail("connect");
            close();
            return false;
        }
        return true;
    }

    bool fail(const char *what)
    {
        lastError = std::string(what) + ": " + std::strerror(errno);
        return false;
    }

    bool sendAll(const std::string &data)
    {
        size_t sent = 0;
        while (sent < data.size()) {
            const ssize_t n = ::send(m_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return fail("send");
            sent += size_t(n);
        }
        return true;
    }

    // Appends what the socket has to m_in; false on EOF or error.
    bool fill()
    {
        char buffer[16384];
        for (;;) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return fail("recv");
            if (n == 0) {
                lastError = "connection closed by the server";
                return false;
            }
            m_in.append(buffer, size_t(n));
            return true;
        }
    }

    static bool headerIs(const char *line, size_t len, const char *name, const char **value, size_t *valueLen)
    {
        const size_t n = std::strlen(name);
        if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
            return false;
        size_t i = n + 1;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        size_t end = len;
        while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
            --end;
        *value = line + i;
        *valueLen = end - i;
        return true;
    }

    ReadResult readResponse(Response *r)
    {
        size_t headEnd;
        for (;;) {
            headEnd = m_in.find("\r\n\r\n");
            if (headEnd != std::string::npos)
                break;
            const bool empty = m_in.empty();
            if (m_in.size() > 65536) {
                lastError = "response head too large";
                return ReadResult::Failed;
            }
            if (!fill())
                return empty ? ReadResult::ClosedBeforeAnyByte : ReadResult::Failed;
        }
        // Status line: HTTP/1.1 200 OK
        const char *p = m_in.data();
        const size_t firstEol = m_in.find("\r\n");
        if (firstEol < 12 || std::strncmp(p, "HTTP/1.", 7) != 0) {
            lastError = "malformed status line";
            return ReadResult::Failed;
        }
        r->status = std::atoi(p + 9);
        long long contentLength = -1;
        bool close = false;
        size_t pos = firstEol + 2;
        while (pos < headEnd) {
            size_t eol = m_in.find("\r\n", pos);
            const char *line = p + pos;
            const size_t len = eol - pos;
            const char *v;
            size_t vl;
            if (headerIs(line, len, "content-length", &v, &vl))
                contentLength = std::strtoll(std::string(v, vl).c_str(), nullptr, 10);
            else if (headerIs(line, len, "etag", &v, &vl))
                r->etag.assign(v, vl);
            else if (headerIs(line, len, "connection", &v, &vl))
                close = vl == 5 && strncasecmp(v, "close", 5) == 0;
            else if (headerIs(line, len, "transfer-encoding", &v, &vl)) {
                lastError = "chunked responses are not supported";
                return ReadResult::Failed;
            }
            pos = eol + 2;
        }
        const size_t bodyStart = headEnd + 4;
        if (r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200))
            contentLength = 0;
        if (contentLength < 0) {
            lastError = "response without Content-Length";
            return ReadResult::Failed;
        }
        if (size_t(contentLength) > MaxResponseBytes) {
            lastError = "response too large";
            return ReadResult::Failed;
        }
        while (m_in.size() < bodyStart + size_t(contentLength)) {
            if (!fill())
                return ReadResult::Failed;
        }
        r->body.assign(m_in, bodyStart, size_t(contentLength));
        m_in.erase(0, bodyStart + size_t(contentLength));
        if (close)
            this->close();
        return ReadResult::Ok;
    }

    uint32_t m_address;
    uint16_t m_port;
    int m_fd = -1;
    std::string m_out;
    std::string m_in;
};

// ---- just enough JSON to pick fields out of a job document -------------------------

// Skips the JSON value starting at s[i] (after whitespace); returns the index after it.
size_t skipValue(const std::string &s, size_t i)
{
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
        ++i;
    if (i >= s.size())
        return std::string::npos;
    const char c = s[i];
    if (c == '"') {
        for (++i; i < s.size(); ++i) {
            if (s[i] == '\\')
                ++i;
            else if (s[i] == '"')
                return i + 1;
        }
        return std::string::npos;
    }
    if (c == '{' || c == '[') {
        int depth = 0;
        for (; i < s.size(); ++i) {
            const char d = s[i];
            if (d == '"') {
                i = skipValue(s, i);
                if (i == std::string::npos)
                    return i;
                --i;
            } else if (d == '{' || d == '[') {
                ++depth;
            } else if (d == '}' || d == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return std::string::npos;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
           !std::isspace(static_cast<unsigned char>(s[i])))
        ++i;
    return i;
}

// The raw text of the value of a top-level key of a JSON object; empty if absent.
std::string topLevelValue(const std::string &s, const char *key)
{
    size_t i = s.find('{');
    if (i == std::string::npos)
        return {};
    ++i;
    const size_t keyLen = std::strlen(key);
    for (;;) {
        while (i < s.size() && (std::isspace(static_cast<unsigned char>(s[i])) || s[i] == ','))
            ++i;
        if (i >= s.size() || s[i] != '"')
            return {};
        const size_t keyEnd = skipValue(s, i);
        if (keyEnd == std::string::npos)
            return {};
        const bool match = keyEnd - i - 2 == keyLen && s.compare(i + 1, keyLen, key) == 0;
        i = s.find(':', keyEnd);
        if (i == std::string::npos)
            return {};
        ++i;
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
            ++i;
        const size_t end = skipValue(s, i);
        if (end == std::string::npos)
            return {};
        if (match)
            return s.substr(i, end - i);
        i = end;
    }
}

// A job id as a path segment: the JSON string decoded and percent-encoded.
std::string idSegment(const std::string &jsonString)
{
    if (jsonString.size() < 2 || jsonString.front() != '"')
        return {};
    if (jsonString.find('\\') == std::string::npos) {
        const QByteArray raw = QByteArray::fromStdString(jsonString.substr(1, jsonString.size() - 2));
        return QUrl::toPercentEncoding(QString::fromUtf8(raw)).toStdString();
    }
    // Escapes (never in server-made ids): let Qt decode them.
    const QByteArray wrapped = QByteArray("[") + QByteArray::fromStdString(jsonString) + ']';
    QCborValue v = QCborValue::fromJsonValue(QJsonDocument::fromJson(wrapped).array().at(0));
    return QUrl::toPercentEncoding(v.toString()).toStdString();
}

// ---- the benchmark -------------------------------------------------------------------

enum class Phase : int { Warmup = 0, Measure = 1, Stop = 2 };

struct Shared
{
    uint32_t address = 0;
    uint16_t port = 0;
    std::string prefix;       // "/" or "/api/": the root's path
    std::string experiment;   // percent-encoded segment
    std::string auth;         // "Authorization: Bearer ...\r\n"
    long long cycleLimit = 0; // 0: run for the time limit
    bool manual = false;
    std::atomic<int> phase{int(Phase::Warmup)};
    std::atomic<long long> cyclesStarted{0};
};

enum Kind { NextJob, Claim, Report, KindCount };

struct WorkerStats
{
    std::vector<uint32_t> request[KindCount]; // microseconds
    std::vector<uint32_t> cycle;
    long long cycles = 0;
    long long requests = 0;
    long long preconditionFailed = 0;
    long long errors = 0;
    long long noJob = 0;
    std::string firstError;
};

uint32_t clampUs(int64_t us)
{
    return us < 0 ? 0u : us > int64_t(UINT32_MAX) ? UINT32_MAX : uint32_t(us);
}

void workerLoop(Shared &sh, WorkerStats &st, unsigned seed)
{
    Connection conn(sh.address, sh.port);
    const std::string nextPath = sh.prefix + "experiments/" + sh.experiment + "/nextjob/";
    const std::string jobsPath = sh.prefix + "experiments/" + sh.experiment + "/jobs/";
    for (auto &v : st.request)
        v.reserve(1 << 16);
    st.cycle.reserve(1 << 16);
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ (uint64_t(seed) << 32 | seed);
    auto uniform = [&rng] {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return double(rng >> 11) / double(1ull << 53);
    };
    auto error = [&](const char *what, const Response &r) {
        ++st.errors;
        if (st.firstError.empty()) {
            st.firstError = std::string(what) + ": " +
                            (r.status ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 150)
                                      : conn.lastError);
        }
    };
    // Times one request; records it when it completes inside the measured window.
    auto timed = [&](Kind kind, const char *method, const std::string &path, const std::string &headers,
                     const std::string &body) {
        const auto t0 = Clock::now();
        Response r = conn.request(method, path, headers, body);
        const auto t1 = Clock::now();
        if (sh.phase.load(std::memory_order_relaxed) == int(Phase::Measure)) {
            st.request[kind].push_back(clampUs(micros(t0, t1)));
            ++st.requests;
        }
        return r;
    };

    std::string headers, body;
    while (sh.phase.load(std::memory_order_relaxed) != int(Phase::Stop)) {
        if (sh.cycleLimit && sh.cyclesStarted.fetch_add(1, std::memory_order_relaxed) >= sh.cycleLimit)
            break;
        const auto cycleStart = Clock::now();
        bool done = false;
        // One cycle: until a job is claimed and reported (412s send us back to nextjob/).
        for (int attempt = 0; !done && attempt < 100; ++attempt) {
            if (sh.phase.load(std::memory_order_relaxed) == int(Phase::Stop))
                return;
            Response next = timed(NextJob, "GET", nextPath, sh.auth, std::string());
            if (next.status == 204) {
                ++st.noJob;
                if (sh.manual)
                    return; // the queue is empty: this worker is finished
                error("nextjob answered 204 for a random search", next);
                return;
            }
            if (next.status != 200 || next.etag.empty()) {
                error("nextjob", next);
                if (next.status == 0)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                continue;
            }
            const std::string id = idSegment(topLevelValue(next.body, "id"));
            std::string hp = topLevelValue(next.body, "hyperparameters");
            if (id.empty() || hp.empty()) {
                error("nextjob: no id or hyperparameters in the job", next);
                continue;
            }
            const std::string path = jobsPath + id + "/";

            headers = sh.auth;
            headers += "If-Match: " + next.etag + "\r\n";
            body = "{\"status\":\"RUNNING\",\"hyperparameters\":" + hp + "}";
            Response claim = timed(Claim, "PUT", path, headers, body);
            if (claim.status == 412) {
                ++st.preconditionFailed;
                continue;
            }
            if (claim.status != 200 || claim.etag.empty()) {
                error("claim", claim);
                continue;
            }

            char results[160];
            std::snprintf(results, sizeof results, "{\"loss\":%.17g,\"accuracy\":%.17g,\"epochs\":3}",
                          uniform() * 2.0, uniform());
            headers = sh.auth;
            headers += "If-Match: " + claim.etag + "\r\n";
            body = "{\"status\":\"DONE\",\"hyperparameters\":" + hp + ",\"results\":" + results + "}";
            Response report = timed(Report, "PUT", path, headers, body);
            if (report.status == 412) {
                ++st.preconditionFailed;
                continue;
            }
            if (report.status != 200) {
                error("report", report);
                continue;
            }
            done = true;
        }
        if (!done)
            continue;
        const auto cycleEnd = Clock::now();
        if (sh.phase.load(std::memory_order_relaxed) == int(Phase::Measure)) {
            ++st.cycles;
            st.cycle.push_back(clampUs(micros(cycleStart, cycleEnd)));
        }
    }
}

double percentile(std::vector<uint32_t> &v, double p)
{
    if (v.empty())
        return 0;
    const size_t k = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    return v[k] / 1000.0;
}

double maxOf(const std::vector<uint32_t> &v)
{
    return v.empty() ? 0 : *std::max_element(v.begin(), v.end()) / 1000.0;
}

// JSON string literal for setup requests.
std::string jsonString(const QString &s)
{
    std::string out = "\"";
    for (const char c : s.toStdString()) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// CPU seconds used so far: by the whole machine (busy, all cores), by a
// process (from /proc/PID/stat; -1 if unreadable) and by this process.
struct CpuSample
{
    double machineBusy = -1;
    double server = -1;
    double self = 0;
};

CpuSample sampleCpu(int serverPid)
{
    CpuSample c;
    const double tick = double(sysconf(_SC_CLK_TCK));
    if (FILE *f = std::fopen("/proc/stat", "r")) {
        unsigned long long v[8] = {};
        if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                        &v[5], &v[6], &v[7]) == 8)
            c.machineBusy = double(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick; // all but idle and iowait
        std::fclose(f);
    }
    if (serverPid > 0) {
        const std::string path = "/proc/" + std::to_string(serverPid) + "/stat";
        if (FILE *f = std::fopen(path.c_str(), "r")) {
            char buffer[1024];
            const size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
            buffer[n] = 0;
            std::fclose(f);
            // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
            if (const char *p = std::strrchr(buffer, ')')) {
                unsigned long long utime = 0, stime = 0;
                if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                                &stime) == 2)
                    c.server = double(utime + stime) / tick;
            }
        }
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    c.self = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    return c;
}

int die(const std::string &message)
{
    std::fprintf(stderr, "schedy-loadgen: %s\n", message.c_str());
    return 1;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("schedy-loadgen"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs K concurrent Schedy workers (nextjob -> claim RUNNING -> report DONE) against a server on "
        "127.0.0.1 and prints cycles/s and latency percentiles."));
    parser.addHelpOption();
    const QCommandLineOption rootOpt(QStringLiteral("root"),
                                     QStringLiteral("Server root URL (default: the config's)."),
                                     QStringLiteral("URL"));
    const QCommandLineOption configOpt(QStringLiteral("config"),
                                       QStringLiteral("Client config (client.json)."), QStringLiteral("FILE"),
                                       schedy::ClientConfig::defaultPath());
    const QCommandLineOption workersOpt(QStringLiteral("workers"),
                                        QStringLiteral("Concurrent workers (1-256)."), QStringLiteral("K"),
                                        QStringLiteral("8"));
    const QCommandLineOption secondsOpt(QStringLiteral("seconds"), QStringLiteral("Measured duration."),
                                        QStringLiteral("S"), QStringLiteral("10"));
    const QCommandLineOption cyclesOpt(QStringLiteral("cycles"),
                                       QStringLiteral("Run exactly N cycles instead of a duration."),
                                       QStringLiteral("N"));
    const QCommandLineOption warmupOpt(QStringLiteral("warmup"),
                                       QStringLiteral("Unmeasured seconds before the measured duration."),
                                       QStringLiteral("S"), QStringLiteral("1"));
    const QCommandLineOption experimentOpt(QStringLiteral("experiment"), QStringLiteral("Experiment name."),
                                           QStringLiteral("NAME"), QStringLiteral("loadgen"));
    const QCommandLineOption schedulerOpt(QStringLiteral("scheduler"),
                                          QStringLiteral("random (RandomSearch, 3 hyperparameters) or manual "
                                                         "(jobs POSTed beforehand)."),
                                          QStringLiteral("KIND"), QStringLiteral("random"));
    const QCommandLineOption jobsOpt(
        QStringLiteral("manual-jobs"),
        QStringLiteral("Jobs to POST beforehand with --scheduler manual (default: "
                       "--cycles, or 4000 per measured second)."),
        QStringLiteral("N"));
    const QCommandLineOption serverPidOpt(
        QStringLiteral("server-pid"),
        QStringLiteral("Also report the CPU time of this process (the server)."), QStringLiteral("PID"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     QStringLiteral("Also print one JSON line of figures."));
    parser.addOptions({rootOpt, configOpt, workersOpt, secondsOpt, cyclesOpt, warmupOpt, experimentOpt,
                       schedulerOpt, jobsOpt, serverPidOpt, jsonOpt});
    parser.process(app);

    QString error;
    const auto config = schedy::ClientConfig::load(parser.value(configOpt), &error);
    if (!config)
        return die(error.toStdString());
    if (config->tokenType != schedy::ClientConfig::TokenType::ApiToken)
        return die("the config must hold an API token (token_type api_token)");
    const QUrl root(schedy::normalizedRoot(parser.isSet(rootOpt) ? parser.value(rootOpt) : config->root));
    if (root.scheme() != QLatin1String("http"))
        return die("only http:// roots are supported");
    const QString host = root.host();
    if (host != QLatin1String("127.0.0.1") && host != QLatin1String("localhost"))
        return die("refusing to load a server that is not on 127.0.0.1: " + root.toString().toStdString());

    bool ok = false;
    const int workers = parser.value(workersOpt).toInt(&ok);
    if (!ok || workers < 1 || workers > MaxWorkers)
        return die("--workers must be from 1 to 256");
    const double seconds = parser.value(secondsOpt).toDouble(&ok);
    if (!ok || !(seconds > 0) || seconds > MaxSeconds)
        return die("--seconds must be in (0, 3600]");
    long long cycles = 0;
    if (parser.isSet(cyclesOpt)) {
        cycles = parser.value(cyclesOpt).toLongLong(&ok);
        if (!ok || cycles < 1 || cycles > MaxCycles)
            return die("--cycles must be from 1 to 100000000");
    }
    double warmup = parser.value(warmupOpt).toDouble(&ok);
    if (!ok || warmup < 0 || warmup > 600)
        return die("--warmup must be in [0, 600]");
    if (cycles)
        warmup = 0; // every cycle counts
    const int serverPid = parser.isSet(serverPidOpt) ? parser.value(serverPidOpt).toInt() : 0;
    const QString scheduler = parser.value(schedulerOpt);
    if (scheduler != QLatin1String("random") && scheduler != QLatin1String("manual"))
        return die("--scheduler must be random or manual");
    const QString experiment = parser.value(experimentOpt);
    if (experiment.isEmpty())
        return die("--experiment must not be empty");

    Shared sh;
    sh.address = htonl(INADDR_LOOPBACK);
    sh.port = uint16_t(root.port(80));
    sh.prefix = root.path(QUrl::FullyEncoded).toStdString();
    if (sh.prefix.empty() || sh.prefix.back() != '/')
        sh.prefix += '/';
    sh.experiment = QUrl::toPercentEncoding(experiment).toStdString();
    sh.cycleLimit = cycles;
    sh.manual = scheduler == QLatin1String("manual");

    // Log in.
    Connection setup(sh.address, sh.port);
    Response r = setup.request("POST", sh.prefix + "token/", std::string(),
                               "{\"email\":" + jsonString(config->email) +
                                   ",\"token\":" + jsonString(config->token) + "}");
    if (r.status != 200)
        return die("login failed: " + (r.status
                                           ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 150)
                                           : setup.lastError));
    const std::string bearer = topLevelValue(r.body, "token");
    if (bearer.size() < 3)
        return die("login answered without a token");
    sh.auth = "Authorization: Bearer " + bearer.substr(1, bearer.size() - 2) + "\r\n";

    // Create (or replace) the experiment.
    const std::string experimentPath = sh.prefix + "experiments/" + sh.experiment + "/";
    const std::string schedulerJson =
        sh.manual ? std::string("{\"Manual\":null}")
                  : std::string("{\"RandomSearch\":{"
                                "\"lr\":{\"loguniform\":{\"low\":1e-06,\"high\":0.1}},"
                                "\"dropout\":{\"uniform\":{\"low\":0.0,\"high\":0.8}},"
                                "\"layers\":{\"choice\":{\"values\":[1,2,3,4,5]}}}}");
    r = setup.request("PUT", experimentPath, sh.auth,
                      "{\"status\":\"RUNNING\",\"scheduler\":" + schedulerJson + "}");
    if (r.status != 200 && r.status != 201)
        return die("creating the experiment failed: HTTP " + std::to_string(r.status) + " " +
                   r.body.substr(0, 150) + setup.lastError);

    if (sh.manual) {
        long long jobs = cycles ? cycles : (long long)(4000 * (seconds + warmup));
        if (parser.isSet(jobsOpt)) {
            jobs = parser.value(jobsOpt).toLongLong(&ok);
            if (!ok || jobs < 1 || jobs > 10'000'000)
                return die("--manual-jobs must be from 1 to 10000000");
        }
        std::fprintf(stderr, "schedy-loadgen: posting %lld jobs...\n", jobs);
        std::atomic<long long> left{jobs};
        std::atomic<int> failures{0};
        std::vector<std::thread> posters;
        for (int i = 0; i < workers; ++i) {
            posters.emplace_back([&, i] {
                Connection c(sh.address, sh.port);
                const std::string path = experimentPath + "jobs/";
                while (left.fetch_sub(1) > 0) {
                    char body[200];
                    std::snprintf(body, sizeof body,
                                  "{\"hyperparameters\":{\"lr\":%g,\"dropout\":%g,\"layers\":%d}}",
                                  1e-4 * (1 + (left.load() % 97)), 0.1 * (i % 8), 1 + i % 5);
                    if (c.request("POST", path, sh.auth, body).status != 201 && failures.fetch_add(1) == 0)
                        std::fprintf(stderr, "schedy-loadgen: posting a job failed (%s)\n",
                                     c.lastError.c_str());
                }
            });
        }
        for (auto &t : posters)
            t.join();
        if (failures.load())
            return die("posting the manual jobs failed");
    }
    setup.close();

    std::printf(
        "schedy-loadgen: %d workers, %s scheduler, experiment '%s', %s\n", workers,
        sh.manual ? "manual" : "random", experiment.toUtf8().constData(),
        cycles ? (std::to_string(cycles) + " cycles").c_str()
               : (std::to_string(seconds) + " s after " + std::to_string(warmup) + " s of warm-up").c_str());
    std::fflush(stdout);

    std::vector<WorkerStats> stats(static_cast<size_t>(workers));
    std::vector<std::thread> threads;
    if (warmup <= 0)
        sh.phase.store(int(Phase::Measure));
    const auto start = Clock::now();
    for (int i = 0; i < workers; ++i)
        threads.emplace_back(workerLoop, std::ref(sh), std::ref(stats[size_t(i)]), unsigned(i + 1));
    Clock::time_point measureStart = start, measureEnd;
    CpuSample cpuStart = sampleCpu(serverPid), cpuEnd;
    if (warmup > 0) {
        std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
        cpuStart = sampleCpu(serverPid);
        measureStart = Clock::now();
        sh.phase.store(int(Phase::Measure));
    }
    if (!cycles) {
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
        measureEnd = Clock::now();
        sh.phase.store(int(Phase::Stop));
        cpuEnd = sampleCpu(serverPid);
        for (auto &t : threads)
            t.join();
    } else {
        for (auto &t : threads)
            t.join();
        measureEnd = Clock::now();
        cpuEnd = sampleCpu(serverPid);
    }
    const double elapsed = std::chrono::duration<double>(measureEnd - measureStart).count();

    WorkerStats all;
    for (WorkerStats &s : stats) {
        for (int k = 0; k < KindCount; ++k)
            all.request[k].insert(all.request[k].end(), s.request[k].begin(), s.request[k].end());
        all.cycle.insert(all.cycle.end(), s.cycle.begin(), s.cycle.end());
        all.cycles += s.cycles;
        all.requests += s.requests;
        all.preconditionFailed += s.preconditionFailed;
        all.errors += s.errors;
        all.noJob += s.noJob;
        if (all.firstError.empty())
            all.firstError = s.firstError;
    }
    std::vector<uint32_t> requests;
    for (int k = 0; k < KindCount; ++k)
        requests.insert(requests.end(), all.request[k].begin(), all.request[k].end());

    const double cps = all.cycles / elapsed;
    const double rps = all.requests / elapsed;
    const double reqP50 = percentile(requests, 50), reqP99 = percentile(requests, 99),
                 reqMax = maxOf(requests);
    const double cycP50 = percentile(all.cycle, 50), cycP99 = percentile(all.cycle, 99),
                 cycMax = maxOf(all.cycle);
    std::printf("elapsed            %.2f s\n", elapsed);
    std::printf("cycles             %lld  (%.0f cycles/s)\n", all.cycles, cps);
    std::printf("requests           %lld  (%.0f requests/s)\n", all.requests, rps);
    std::printf("request latency    p50 %.2f ms   p99 %.2f ms   max %.2f ms\n", reqP50, reqP99, reqMax);
    static const char *names[KindCount] = {"  nextjob", "  claim  ", "  report "};
    for (int k = 0; k < KindCount; ++k)
        std::printf("%s          p50 %.2f ms   p99 %.2f ms   max %.2f ms\n", names[k],
                    percentile(all.request[k], 50), percentile(all.request[k], 99), maxOf(all.request[k]));
    std::printf("cycle latency      p50 %.2f ms   p99 %.2f ms   max %.2f ms\n", cycP50, cycP99, cycMax);
    std::printf("412 (lost claims)  %lld\n", all.preconditionFailed);
    std::printf("errors             %lld%s%s\n", all.errors,
                all.firstError.empty() ? "" : "  first: ", all.firstError.c_str());
    if (sh.manual)
        std::printf("empty queue (204)  %lld\n", all.noJob);
    // CPU over the measured window, in cores (1.0 = one core busy all the time).
    const double machine =
        cpuStart.machineBusy >= 0 ? (cpuEnd.machineBusy - cpuStart.machineBusy) / elapsed : -1;
    const double server =
        cpuStart.server >= 0 && cpuEnd.server >= 0 ? (cpuEnd.server - cpuStart.server) / elapsed : -1;
    const double self = (cpuEnd.self - cpuStart.self) / elapsed;
    const double other = machine >= 0 ? machine - self - std::max(server, 0.0) : -1;
    if (machine >= 0) {
        std::printf("cpu (cores)        machine %.2f of %ld", machine, sysconf(_SC_NPROCESSORS_ONLN));
        if (server >= 0)
            std::printf("   server %.2f", server);
        std::printf("   loadgen %.2f   other %.2f%s\n", self, other,
                    other > 0.15 ? "   (other work was running: figures are noisy)" : "");
    }
    if (parser.isSet(jsonOpt)) {
        std::printf(
            "{\"workers\":%d,\"seconds\":%.3f,\"cycles\":%lld,\"cyclesPerSecond\":%.1f,"
            "\"requests\":%lld,\"requestsPerSecond\":%.1f,\"requestP50Ms\":%.3f,\"requestP99Ms\":%.3f,"
            "\"requestMaxMs\":%.3f,\"cycleP50Ms\":%.3f,\"cycleP99Ms\":%.3f,\"cycleMaxMs\":%.3f,"
            "\"preconditionFailed\":%lld,\"errors\":%lld,\"cpuMachine\":%.3f,\"cpuServer\":%.3f,"
            "\"cpuLoadgen\":%.3f,\"cpuOther\":%.3f}\n",
            workers, elapsed, all.cycles, cps, all.requests, rps, reqP50, reqP99, reqMax, cycP50, cycP99,
            cycMax, all.preconditionFailed, all.errors, machine, server, self, other);
    }
    return all.errors ? 3 : 0;
}
