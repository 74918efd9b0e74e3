import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore
import Testing

@testable import GroundworkAnnotations

/// Writes `text` to a scratch file named `name` and returns its path (the folder is left for the
/// system to clean: tests are short-lived).
private func scratchFile(_ name: String, _ text: String) throws -> String {
    let path = try scratchFolder() + "/" + name
    try FileIO.writeAtomically(path, bytes: Array(text.utf8))
    return path
}

@Suite("Repeated ids and unchecked fields are errors at their place")
struct IDIntegrityTests {
    let images = [imageEntry(1, "/d/a.png", 40, 30), imageEntry(2, "/d/b.png", 40, 30)]

    @Test("COCO: a repeated image, category, annotation or question id is an error naming both places")
    func cocoRepeatedIds() throws {
        let file = try scratchFile(
            "ann.json",
            """
            {"images": [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}, {"id": 1, "file_name": "b.png"}],
             "categories": [{"id": 7, "name": "liver"}, {"id": 7, "name": "lung"}],
             "annotations": [
               {"id": 11, "image_id": 1, "category_id": 7, "bbox": [0, 0, 4, 4]},
               {"id": 12, "image_id": 1, "category_id": 7, "bbox": [5, 5, 4, 4]},
               {"id": 11, "image_id": 1, "category_id": 7, "bbox": [10, 10, 4, 4]}
             ],
             "vqa": [
               {"id": "q1", "image_id": 1, "question": "Where is the liver?", "answer": "yes", "answer_type": "closed",
                "question_type": "localization", "target_annotation_ids": [11]},
               {"id": "q1", "image_id": 1, "question": "Is there a liver?", "answer": "yes", "answer_type": "closed"}
             ]}
            """)
        let run = try runReader(COCOReader(), file, images: images)
        #expect(
            run.found == [
                "error duplicate_id @ at /images/2/id",
                "error duplicate_id @ at /categories/1/id",
                "error duplicate_id @ at /annotations/2/id",
                "error duplicate_id @ at /vqa/1/id",
            ])
        #expect(run.errors[0].message == "image id 1 appears twice: at /images/0 and at /images/2")
        #expect(run.errors[1].message == "category id 7 appears twice: at /categories/0 and at /categories/1")
        #expect(run.errors[2].message == "annotation id 11 appears twice: at /annotations/0 and at /annotations/2")
        #expect(run.errors[3].message == "question id \"q1\" appears twice: at /vqa/0 and at /vqa/1")
        // The first of each is read; the repeat is not (the import is refused anyway).
        #expect(run.regions.map(\.externalId) == ["11", "12"])
        #expect(run.regions.allSatisfy { $0.label == "liver" })
    }

    @Test("COCO: a question whose target id is repeated is never linked to the last one: the import is refused")
    func cocoRepeatedTargetRefusesTheImport() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 30)])
        let file = fixture.write(
            "ann.json",
            """
            {"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 7, "name": "liver"}],
             "annotations": [
               {"id": 11, "image_id": 1, "category_id": 7, "bbox": [0, 0, 4, 4]},
               {"id": 11, "image_id": 1, "category_id": 7, "bbox": [10, 10, 4, 4]}
             ],
             "vqa": [{"image_id": 1, "question": "Where is the liver?", "answer": "yes", "answer_type": "closed",
                      "question_type": "localization", "target_annotation_ids": [11]}]}
            """)
        let report = try fixture.importAnnotations(file) { $0.addLabels = true }
        #expect(!report.committed)
        #expect(report.diagnostics.filter { $0.severity == .error }.map(\.code) == ["duplicate_id"])
        #expect(try fixture.count("vqa_target") == 0)
        #expect(try fixture.count("region") == 0)
    }

    @Test("COCO: an unknown answer_type or question_type, or an option that is not a string, is an error at its pointer")
    func cocoQuestionFields() throws {
        let file = try scratchFile(
            "ann.json",
            """
            {"images": [{"id": 1, "file_name": "a.png"}], "categories": [], "annotations": [],
             "vqa": [
               {"image_id": 1, "question": "q0", "answer": "yes", "answer_type": "yes/no"},
               {"image_id": 1, "question": "q1", "answer": "a", "question_type": "grounding"},
               {"image_id": 1, "question": "q2", "answer": "a", "answer_type": "choice", "options": ["a", 2, null, "d"],
                "correct_option": 0},
               {"image_id": 1, "question": "q3", "answer": "a", "answer_type": 3, "correct_option": "0", "groundable": "yes"},
               {"image_id": 1, "question": "q4", "answer": "b", "answer_type": "choice", "options": ["a", "b"],
                "correct_option": 1, "question_type": "attribute"},
               {"image_id": 1, "question": "q5", "answer": "yes"}
             ]}
            """)
        let run = try runReader(COCOReader(), file, images: images)
        #expect(
            run.found == [
                "error bad_value @ at /vqa/0/answer_type",
                "error bad_value @ at /vqa/1/question_type",
                "error bad_value @ at /vqa/2/options/1",
                "error bad_value @ at /vqa/2/options/2",
                "error bad_value @ at /vqa/3/answer_type",
                "error bad_value @ at /vqa/3/correct_option",
                "error bad_value @ at /vqa/3/groundable",
            ])
        #expect(run.errors[0].message == "'answer_type' must be one of closed, open, choice, found \"yes/no\"")
        // Good items are read as written; defaults hold only when a field is absent.
        #expect(run.questions.map(\.question) == ["q4", "q5"])
        #expect(run.questions[0].options == ["a", "b"] && run.questions[0].correctOption == 1)
        #expect(run.questions[0].questionType == .attribute)
        #expect(run.questions[1].answerType == .open && run.questions[1].questionType == .other)
    }

    @Test("VGMED: an option that is not a string, a non-string answer_type and a repeated id are errors")
    func vgmedFields() throws {
        let file = try scratchFile(
            "q.jsonl",
            """
            {"id": 1, "image": "a.png", "label": "liver", "question": "q0", "question_type": "attribute", "answer_type": "choice", "options": ["a", 2], "answer": "a"}
            {"id": 2, "image": "a.png", "label": "liver", "question": "q1", "question_type": "attribute", "answer_type": 5}
            {"id": 3, "image": "a.png", "label": "liver", "question": "q2", "question_type": "attribute", "answer": "x"}
            {"id": 3, "image": "a.png", "label": "liver", "question": "q3", "question_type": "attribute", "answer": "y"}
            """)
        let run = try runReader(VGMEDReader(), file, images: images)
        #expect(
            run.found == [
                "error bad_value @ line 1", "error bad_value @ line 2", "error duplicate_id @ line 4",
            ])
        #expect(run.errors[0].message == "'options' must be a list of strings: element 1 is 2")
        #expect(run.errors[2].message == "id 3 appears twice: on line 3 and on line 4")
        #expect(run.questions.map(\.question) == ["q2"])
    }

    @Test("SLAKE: a repeated qid in one question.json is an error naming both places")
    func slakeRepeatedQid() throws {
        let root = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/imgs/xmlab1", withIntermediateDirectories: true)
        try FileIO.writeAtomically(
            root + "/imgs/xmlab1/question.json",
            bytes: Array(
                """
                [{"img_name": "xmlab1/source.jpg", "question": "Is this a CT?", "answer": "Yes", "answer_type": "CLOSED",
                  "content_type": "Modality", "qid": 7},
                 {"img_name": "xmlab1/source.jpg", "question": "Is this an MRI?", "answer": "No", "answer_type": "CLOSED",
                  "content_type": "Modality", "qid": 7},
                 {"img_name": "xmlab1/source.jpg", "question": "Which organ?", "answer": "Liver", "answer_type": 1,
                  "content_type": "Organ", "qid": 8}]
                """.utf8))
        let run = try runReader(SLAKEReader(), root, images: [imageEntry(1, root + "/imgs/xmlab1/source.jpg", 40, 30)])
        let errors = run.errors.map { "\($0.code) \($0.location): \($0.message)" }
        #expect(
            errors == [
                "duplicate_id at /1/qid: qid 7 appears twice: at /0 and at /1",
                "bad_value at /2/answer_type: 'answer_type' must be OPEN or CLOSED, found 1",
            ])
        #expect(run.questions.map(\.question) == ["Is this a CT?"])
    }

    @Test("InsertStatement: a refused bind throws instead of writing the previous row's value")
    func refusedBindThrows() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a INTEGER, b TEXT)")
            let insert = try InsertStatement(db, sql: "INSERT INTO t (a, b) VALUES (?, ?)")
            insert.bind(1, Int64(1))
            insert.bind(2, "first")
            try insert.run()
            // Parameter 3 does not exist: SQLite refuses the bind (SQLITE_RANGE) and keeps the
            // old value of parameter 2, so running would write "first" again.
            insert.bind(1, Int64(2))
            insert.bind(3, "second")
            #expect(throws: DatabaseError.self) { try insert.run() }
            do {
                insert.bind(1, Int64(2))
                insert.bind(3, "second")
                try insert.run()
            } catch let error as DatabaseError {
                #expect(error.resultCode == .SQLITE_RANGE)
                #expect(error.message?.contains("cannot bind parameter 3") == true)
            }
            // Every parameter bound: runs; one left unbound is NULL, never the last row's value.
            insert.bind(1, Int64(3))
            insert.bind(2, "third")
            try insert.run()
            insert.bind(1, Int64(4))
            try insert.run()
        }
        let rows = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT a, b FROM t ORDER BY rowid").map {
                "\($0["a"] as Int64? ?? -1):\($0["b"] as String? ?? "NULL")"
            }
        }
        #expect(rows == ["1:first", "3:third", "4:NULL"])
    }
}

@Suite("Repeated region keys: a question never links to whichever came last")
struct RepeatedKeyTests {
    @Test("any reader: a question targeting a key defined twice is an error naming both places")
    func preparerRefusesAmbiguousTargets() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 30)])
        let images = try ImageIndex(project: fixture.project)
        let context = ReaderContext(file: fixture.folder + "/x.json", imagesRoot: nil, images: images, options: ReaderOptions())
        var options = AnnotationImportOptions(file: context.file)
        options.addLabels = true
        let labels = try fixture.project.database.read { try LabelIndex($0) }
        let preparer = DraftPreparer(labels: labels, options: options, context: context)
        let image = ImageReference(fileName: "a.png")
        for (k, box) in [Box(x0: 0, y0: 0, x1: 4, y1: 4), Box(x0: 10, y0: 10, x1: 14, y1: 14)].enumerated() {
            let region = RegionDraft(
                image: image, label: "liver", geometry: .box(box), location: .jsonPointer("/annotations/\(k)"), key: "ann:11")
            #expect(preparer.prepare(.region(region), reporting: context) != nil)
        }
        let question = VQADraft(
            image: image, question: "Where is the liver?", answer: "yes", answerType: .closed, questionType: .localization,
            targetKeys: ["ann:11"], location: .jsonPointer("/vqa/0"))
        #expect(preparer.prepare(.vqa(question), reporting: context) == nil)
        let errors = context.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == ["ambiguous_target"])
        #expect(
            errors.first?.message
                == "target region 'ann:11' is defined twice in this file (at /annotations/0 and at /annotations/1)")
    }
}
