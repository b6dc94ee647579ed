// Status and Result<T>: what memlog's cold paths (create, open, recover, cursors) return; the
// project's one vocabulary (base/status.h), so that codes cross module boundaries intact.
#pragma once

#include "base/status.h"

namespace kappa::memlog {

using base::Result;
using base::Status;
using base::StatusCode;

}  // namespace kappa::memlog
