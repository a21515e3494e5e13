namespace Platform.Contracts;

/// <summary>Who created something: the id and name of the API key that asked for it.</summary>
public sealed record Owner(Guid Id, string Name);
