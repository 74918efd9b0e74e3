import GRDB
import GRDBSQLite

/// A statement prepared once for an import and run row after row with direct bindings: the hot
/// path of the annotation importer (no argument arrays, no SQL lookup per row).
///
/// Values are bound exactly as GRDB binds them (`Int64` and `Bool` as integers, `Double` as a
/// real, `String` as text, nil as NULL), so the rows written are the same. Every parameter must
/// be bound before each ``run()``. Use it from the connection's own queue only, inside the
/// import's transaction.
struct InsertStatement {
    private let statement: Statement
    private let connection: OpaquePointer

    /// Prepares `sql` on `db` (once; the statement lives as long as this value).
    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database connection is closed")
        }
        self.connection = connection
        statement = try db.makeStatement(sql: sql)
    }

    private var handle: OpaquePointer { statement.sqliteStatement }

    /// SQLite copies bound text before the call returns.
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: Int?) { bind(index, value.map(Int64.init)) }

    func bind(_ index: Int32, _ value: Bool) { sqlite3_bind_int64(handle, index, value ? 1 : 0) }

    func bind(_ index: Int32, _ value: Double) { sqlite3_bind_double(handle, index, value) }

    func bind(_ index: Int32, _ value: String?) {
        guard var text = value else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bytes in
            if let base = bytes.baseAddress, bytes.count > 0 {
                base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    _ = sqlite3_bind_text(handle, index, $0, Int32(bytes.count), Self.transient)
                }
            } else {
                _ = sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
        }
    }

    /// Runs the statement with the values bound, then resets it.
    /// - Returns: the number of rows it inserted (0 when `ON CONFLICT DO NOTHING` skipped the row).
    /// - Throws: `DatabaseError` (a constraint or trigger refused the row, or I/O failed).
    @discardableResult
    func run() throws -> Int {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        sqlite3_reset(handle)
        return Int(sqlite3_changes(connection))
    }

    /// The row id of the last row inserted on the connection.
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(connection) }
}
