import GRDB
import GRDBSQLite

/// A query prepared once and stepped row by row, its columns read straight from SQLite: the hot
/// path of hashing a release (no `Row`, no `DatabaseValue` per column, no copy of text). Use it
/// from the connection's own queue only, and let no other statement step it meanwhile.
package struct QueryStatement {
    private let prepared: PreparedStatement

    /// SQLite's storage class of a column of the current row.
    package enum ColumnType {
        case null, integer, real, text, blob
    }

    /// Prepares `sql` on `db` (once; the statement lives as long as this value).
    package init(_ db: Database, sql: String) throws {
        prepared = try PreparedStatement(db, sql: sql)
    }

    private var statement: Statement { prepared.statement }
    private var connection: OpaquePointer { prepared.connection }
    private var handle: OpaquePointer { prepared.statement.sqliteStatement }

    /// Binds an integer to parameter `index` (1-based), resetting the statement first.
    package func bind(_ index: Int32, _ value: Int64) throws {
        sqlite3_reset(handle)
        let code = sqlite3_bind_int64(handle, index, value)
        guard code == SQLITE_OK else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errstr(code)),
                sql: statement.sql)
        }
    }

    /// Steps to the next row: true on a row, false when there is none left (the statement is then
    /// reset, ready to run again).
    package func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        let message = String(cString: sqlite3_errmsg(connection))
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        return false
    }

    /// The number of columns of the result.
    package var columnCount: Int32 { sqlite3_column_count(handle) }

    package func type(_ column: Int32) -> ColumnType {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    package func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    package func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    /// The column's text (UTF-8 as stored, not validated) or blob bytes, valid until the next
    /// step; empty for NULL.
    package func bytes(_ column: Int32, text: Bool) -> UnsafeBufferPointer<UInt8> {
        let base = text ? sqlite3_column_text(handle, column).map(UnsafeRawPointer.init) : sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        guard let base, count > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
    }
}
