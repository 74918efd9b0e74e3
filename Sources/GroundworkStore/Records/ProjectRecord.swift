import GRDB

/// A row type of the project's database. Its columns are its properties' names in snake case
/// (`imageId` is `image_id`): the coding strategy every table uses, declared here once.
public protocol ProjectRecord: Codable, Sendable, FetchableRecord, EncodableRecord, TableRecord {}

extension ProjectRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}
