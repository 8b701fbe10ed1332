#pragma once

#include "Types.h"

#include <QByteArray>

#include <optional>

namespace schedy::detail {

// A page of jobs decoded straight from its text: only the hyperparameters and
// results become QCborMaps, the rest of each job goes into the Job directly.
// It gives exactly what json::parse + codec::decodeJobPage give, or nullopt
// when the text is not a plainly valid page (a repeated key, an escaped key, a
// wrong type, bad JSON, ...): the caller then decodes it the general way, which
// also names the error. Listings of thousands of jobs are decoded about twice
// as fast this way.
std::optional<Page<Job>> decodeJobPageFast(const QByteArray &body);

// The cursor of the next page, read from the end of a listing's body before it
// is decoded, so that the next page can be asked for meanwhile. Empty when the
// body does not end the way our server and the original service end it.
QString peekNextCursor(const QByteArray &body);

} // namespace schedy::detail
