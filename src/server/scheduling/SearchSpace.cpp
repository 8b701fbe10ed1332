#include "SearchSpace.h"

#include "Json.h"
#include "Sampler.h"

#include <cmath>

namespace schedy::server {

double normalCdf(double x)
{
    return 0.5 * std::erfc(-x / M_SQRT2);
}

double normalQuantile(double p)
{
    if (!(p > 0))
        return -INFINITY;
    if (!(p < 1))
        return INFINITY;
    // Acklam's rational approximation (relative error 1.15e-9), then one step of
    // Halley's method on erfc, which brings it to double precision.
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                               1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    const double low = 0.02425;
    double x;
    if (p < low) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - low) {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        const double q = std::sqrt(-2 * std::log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    // Refine on the tail that is small, where the CDF is exact.
    const double e = x < 0 ? normalCdf(x) - p : (1 - p) - 0.5 * std::erfc(x / M_SQRT2);
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2); // e = Phi(x) - p either way
    return x - u / (1 + x * u / 2);
}

QCborValue fromUnit(const Distribution &d, double u)
{
    switch (d.kind) {
    case Distribution::Kind::Uniform:
        return d.low + (d.high - d.low) * u;
    case Distribution::Kind::LogUniform:
        return std::exp(std::log(d.low) + (std::log(d.high) - std::log(d.low)) * u);
    case Distribution::Kind::Normal:
        return d.mean + d.std * normalQuantile(u);
    case Distribution::Kind::Choice:
        return Sampler::choiceAt(d, u);
    case Distribution::Kind::Const:
        return d.constant;
    }
    return {};
}

bool isFixed(const Distribution &d)
{
    return d.kind == Distribution::Kind::Const ||
           (d.kind == Distribution::Kind::Choice && d.values.size() <= 1) ||
           (d.kind == Distribution::Kind::Normal && d.std == 0);
}

std::optional<qsizetype> choiceIndex(const Distribution &d, const QCborValue &value)
{
    for (qsizetype i = 0; i < d.values.size(); ++i) {
        const QCborValue &c = d.values.at(i);
        // 1 and 1.0 are one value, as a client's JSON may write either.
        if (c == value ||
            (json::isNumber(c) && json::isNumber(value) && json::toDouble(c) == json::toDouble(value)))
            return i;
    }
    return std::nullopt;
}

quint64 mixSeed(quint64 a, quint64 b)
{
    quint64 z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

} // namespace schedy::server
