import GRDB
import GRDBSQLite

/// A statement prepared once for an import and run row after row with direct bindings: the hot
/// path of the annotation importer (no argument arrays, no SQL lookup per row).
///
/// Values are bound exactly as GRDB binds them (`Int64` and `Bool` as integers, `Double` as a
/// real, `String` as text, nil as NULL), so the rows written are the same. Every parameter must
/// be bound before each ``run()``; the return code of every bind is checked, and ``run()`` throws
/// (without stepping) when one failed, since SQLite leaves a refused parameter at its old value.
/// Use it from the connection's own queue only, inside the import's transaction.
package struct InsertStatement {
    private let prepared: PreparedStatement

    /// Prepares `sql` on `db` (once; the statement lives as long as this value).
    package init(_ db: Database, sql: String) throws {
        prepared = try PreparedStatement(db, sql: sql)
    }

    private var statement: Statement { prepared.statement }
    private var connection: OpaquePointer { prepared.connection }
    private var handle: OpaquePointer { prepared.statement.sqliteStatement }

    /// The first bind of the current row that SQLite refused, kept until ``run()`` throws it.
    private let failure = BindFailure()

    private final class BindFailure: @unchecked Sendable {
        var first: (index: Int32, code: Int32, message: String)?
    }

    /// SQLite copies bound text before the call returns.
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    /// Records a bind's return code: a refused bind leaves the parameter as it was (the previous
    /// row's value), so the row must not be run.
    private func check(_ code: Int32, _ index: Int32) {
        guard code != SQLITE_OK, failure.first == nil else { return }
        failure.first = (index, code, String(cString: sqlite3_errstr(code)))
    }

    package func bind(_ index: Int32, _ value: Int64) { check(sqlite3_bind_int64(handle, index, value), index) }

    package func bind(_ index: Int32, _ value: Int64?) {
        if let value {
            check(sqlite3_bind_int64(handle, index, value), index)
        } else {
            check(sqlite3_bind_null(handle, index), index)
        }
    }

    package func bind(_ index: Int32, _ value: Int?) { bind(index, value.map(Int64.init)) }

    package func bind(_ index: Int32, _ value: Bool) { check(sqlite3_bind_int64(handle, index, value ? 1 : 0), index) }

    package func bind(_ index: Int32, _ value: Double) { check(sqlite3_bind_double(handle, index, value), index) }

    package func bind(_ index: Int32, _ value: String?) {
        guard var text = value else {
            check(sqlite3_bind_null(handle, index), index)
            return
        }
        guard text.utf8.count <= Int(Int32.max) else {
            check(SQLITE_TOOBIG, index)
            return
        }
        let code = text.withUTF8 { bytes -> Int32 in
            if let base = bytes.baseAddress, bytes.count > 0 {
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(handle, index, $0, Int32(bytes.count), Self.transient)
                }
            } else {
                return sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
        }
        check(code, index)
    }

    /// Runs the statement with the values bound, then resets it and clears its bindings (so a
    /// parameter the next row forgets to bind is NULL, never this row's value).
    /// - Returns: the number of rows it inserted (0 when `ON CONFLICT DO NOTHING` skipped the row).
    /// - Throws: `DatabaseError` when a bind of this row failed (nothing is run), or when the
    ///   step fails (a constraint or trigger refused the row, or I/O failed).
    @discardableResult
    package func run() throws -> Int {
        if let bad = failure.first {
            failure.first = nil
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            throw DatabaseError(
                resultCode: ResultCode(rawValue: bad.code),
                message: "cannot bind parameter \(bad.index): \(bad.message); the row was not written",
                sql: statement.sql)
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        let changes = Int(sqlite3_changes(connection))
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        return changes
    }

    /// The row id of the last row inserted on the connection.
    package var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(connection) }
}

/// A statement prepared on a connection, with the connection's raw handle: what
/// ``InsertStatement`` and ``QueryStatement`` drive through SQLite's C interface.
struct PreparedStatement {
    let statement: Statement
    let connection: OpaquePointer

    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database connection is closed")
        }
        self.connection = connection
        statement = try db.makeStatement(sql: sql)
    }
}
