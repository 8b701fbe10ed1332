#pragma once

#include "SqlConnection.h"

namespace schedy::server {

int latestSchemaVersion();
// The schema version of the connected database (0: empty).
int schemaVersion(SqlConnection &c);
// Brings the schema up to date, or to `versionLimit` when that is >= 0 (tests build old
// databases so). Several processes may run it at once on PostgreSQL.
bool migrateSchema(SqlConnection &c, int versionLimit, QString *error);

} // namespace schedy::server
