import Foundation
import GroundworkCore
import GroundworkReleases
import GroundworkTestSupport
import Testing

/// `ParquetFile` read back by pyarrow, an independent reader: every value, null, empty list and
/// null element where it was, and the Arrow types the schema declares.
@Suite struct ParquetFileTests {
    typealias F = ParquetFile.Field

    static let file = ParquetFile(fields: [
        F("name", .string), F("count", .int64), F("score", .double), F("flag", .bool), F("tags", .list(.string)),
        F(
            "objects",
            .structure([
                F("id", .list(.string)), F("bbox", .list(.list(.double))), F("crowd", .list(.bool)),
            ])),
    ])

    /// Rows covering nulls at every level, empty lists, null elements, long runs and non-ASCII text.
    static func rows() -> [JSONValue] {
        var rows: [JSONValue] = [
            .object([("name", .null), ("count", .null), ("score", .null), ("flag", .null), ("tags", .null), ("objects", .null)]),
            .object([
                ("name", "é 中 \u{1F600}"), ("count", -3), ("score", 0.1), ("flag", true), ("tags", []),
                ("objects", .object([("id", []), ("bbox", []), ("crowd", [])])),
            ]),
            .object([
                ("name", ""), ("count", 9_007_199_254_740), ("score", -1e300), ("flag", false), ("tags", ["a", .null, "c"]),
                (
                    "objects",
                    .object([
                        ("id", ["1", "2"]), ("bbox", .array([[1, 2.5, 3, 4], [], .null, [5, 6, 7, 8.25]])),
                        ("crowd", [false, true, .null]),
                    ])
                ),
            ]),
            .object([("name", "missing members")]),
        ]
        for k in 0..<40 {
            rows.append(
                .object([
                    ("name", .string("row \(k)")), ("count", .number(Double(k))), ("score", .number(Double(k) / 3)),
                    ("flag", .bool(k % 3 == 0)), ("tags", k % 5 == 0 ? .null : .array([.string("t\(k)")])),
                    (
                        "objects",
                        .object([("id", .array([.string("\(k)")])), ("bbox", .array([[0, 0, 1, .number(Double(k))]]))])
                    ),
                ]))
        }
        return rows
    }

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with pyarrow (tools/test does)"))
    func pyarrowReadsEveryValueBack() throws {
        let folder = TemporaryFolder()
        let rows = Self.rows()
        let path = folder.write("t.parquet", try Self.file.encode(rows))
        // The rows as pyarrow should give them back: every field, missing members as null.
        let expected = JSONValue.array(
            rows.map { row in
                .object(
                    Self.file.fields.map { field in
                        var value = row[field.name] ?? .null
                        if field.name == "objects", let object = value.objectValue {
                            value = .object(
                                ["id", "bbox", "crowd"].map { key in (key, object.first { $0.key == key }?.value ?? .null) })
                        }
                        return (field.name, value)
                    })
            })
        let json = folder.write("expected.json", Array(expected.canonicalText().utf8))
        let empty = folder.write("empty.parquet", try Self.file.encode([]))
        let script = """
            import json, sys
            import pyarrow.parquet as pq
            table = pq.read_table(sys.argv[1])
            assert str(table.schema.field("name").type) == "string", table.schema
            assert str(table.schema.field("count").type) == "int64"
            assert str(table.schema.field("score").type) == "double"
            assert str(table.schema.field("flag").type) == "bool"
            assert str(table.schema.field("tags").type) == "list<item: string>", table.schema.field("tags").type
            objects = str(table.schema.field("objects").type)
            assert objects == "struct<id: list<item: string>, bbox: list<item: list<item: double>>, crowd: list<item: bool>>", objects
            got = table.to_pylist()
            want = json.load(open(sys.argv[2]))
            assert len(got) == len(want), (len(got), len(want))
            for n, (a, b) in enumerate(zip(got, want)):
                assert a == b, (n, a, b)
            empty = pq.read_table(sys.argv[3])
            assert empty.num_rows == 0 and empty.schema.names == table.schema.names, empty.schema
            print(len(got))
            """
        let result = try runPython(script, [path, json, empty])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("44"), "\(result.output)")
    }

    @Test func encodingIsDeterministicAndEmptyFilesAreValid() throws {
        let a = try Self.file.encode(Self.rows())
        #expect(a == (try Self.file.encode(Self.rows())))
        #expect(Array(a.prefix(4)) == Array("PAR1".utf8) && Array(a.suffix(4)) == Array("PAR1".utf8))
        let empty = try Self.file.encode([])
        #expect(Array(empty.suffix(4)) == Array("PAR1".utf8))
    }

    @Test func aValueOfTheWrongTypeIsRefusedNamingItsRowAndField() {
        let row: JSONValue = .object([("objects", .object([("bbox", [["x"]])]))])
        #expect(throws: ExportError.self) { try Self.file.encode([.object([("name", "ok")]), row]) }
        do {
            _ = try Self.file.encode([.object([("name", "ok")]), row])
        } catch {
            #expect("\(error)".contains("row 2: objects.bbox is not a number"), "\(error)")
        }
    }
}
