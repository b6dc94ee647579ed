// View writers: one per kind. Each view version has one writer at a time (an exclusive flock on
// its file, released by the kernel if the writer dies); any number of readers in any process
// read it in place (serving/view_reader.h).
//
//   auto ns = std::move(Namespace::Open("default")).value();
//   KeyedTableOptions o;
//   o.schema = std::move(Schema::Make({Field::I64("count")})).value();
//   auto counts = std::move(KeyedTableWriter::Create(*ns, "clicks", 1, o)).value();
//   counts->Update(user_id, log_offset,
//                  [](std::span<std::byte> v, bool) { ++*(int64_t*)v.data(); });
//   counts->SetProgress(log_offset + 1, watermark_ns);
//
// Thread safety: one thread at a time per writer. Writes never wait for readers.
//
// Offsets: every write names the log offset it applies; readers get it back with the value.
// SetProgress publishes how far the writer has got (and refreshes the heartbeat readers see).
//
// One writer kind per header; this one includes them all:
//   serving/keyed_table_writer.h     KeyedTableWriter: one value per key
//   serving/windowed_table_writer.h  WindowedTableWriter: one value per key and window
//   serving/top_k_writer.h           TopKWriter: the K best rows by one field
//   serving/result_list_writer.h     ResultListWriter: the last N rows appended
//   serving/write_result.h           WriteResult, what every write returns
#pragma once

#include "serving/keyed_table_writer.h"
#include "serving/result_list_writer.h"
#include "serving/top_k_writer.h"
#include "serving/windowed_table_writer.h"
#include "serving/write_result.h"
