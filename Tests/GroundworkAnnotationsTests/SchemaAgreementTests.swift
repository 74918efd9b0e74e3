import Foundation
import Testing

@testable import GroundworkAnnotations

/// Hand-written readers and the schemas that describe their inputs agree: every field a schema
/// allows is read, and every field a reader reads is in its schema (the attention submission's
/// own check lives with `Submission`).
@Suite("readers and their input schemas agree")
struct SchemaAgreementTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The property names of the object at `path` (a list of `properties` / `items` steps) of a schema.
    static func properties(_ schema: String, at path: [String] = []) throws -> Set<String> {
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/\(schema).schema.json"))
        var node = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for step in path {
            if step == "items" {
                node = try #require(node["items"] as? [String: Any], "\(schema): no items at \(step)")
            } else {
                let properties = try #require(node["properties"] as? [String: Any], "\(schema): no properties")
                node = try #require(properties[step] as? [String: Any], "\(schema): no property \(step)")
            }
        }
        let properties = try #require(node["properties"] as? [String: Any], "\(schema): no properties at \(path)")
        return Set(properties.keys)
    }

    /// The JSON keys a reader's source reads from its row object `value`: `value["key"]` and
    /// `JSONFields.<kind>(value, "key", …)`.
    static func keysRead(in file: String) throws -> Set<String> {
        let source = try String(
            contentsOf: root.appendingPathComponent("Sources/GroundworkAnnotations/\(file)"), encoding: .utf8)
        var keys = Set(source.matches(of: /value\["([a-z_]+)"\]/).map { String($0.output.1) })
        keys.formUnion(source.matches(of: /JSONFields\.\w+\(\s*value,\s*"([a-z_]+)"/).map { String($0.output.1) })
        return keys
    }

    @Test("taxonomy.schema.json: the file's and each label's fields are exactly what TaxonomyFile decodes")
    func taxonomy() throws {
        #expect(Set(TaxonomyFile.CodingKeys.allCases.map(\.stringValue)) == (try Self.properties("taxonomy")))
        #expect(
            Set(TaxonomyFile.Entry.CodingKeys.allCases.map(\.stringValue))
                == (try Self.properties("taxonomy", at: ["labels", "items"])))
    }

    @Test("question-template.schema.json: the template's and each phrasing's fields are exactly what TemplateFile decodes")
    func questionTemplate() throws {
        #expect(Set(TemplateFile.CodingKeys.allCases.map(\.stringValue)) == (try Self.properties("question-template")))
        #expect(
            Set(TemplateFile.Phrasing.CodingKeys.allCases.map(\.stringValue))
                == (try Self.properties("question-template", at: ["phrasings", "items"])))
    }

    @Test("vgmed-jsonl-row.schema.json: the VGMED reader reads every field of a row and no other")
    func vgmedRow() throws {
        let read = try Self.keysRead(in: "Readers/VGMEDReader.swift")
        #expect(read.count > 10)
        #expect(read == (try Self.properties("vgmed-jsonl-row")))
    }
}
