namespace Platform.EndToEnd.Tests;

/// <summary>Names that make the stack's fault rules fire (see PlatformStack.FaultRules): a dataset, run or model so
/// named fails on purpose.</summary>
public static class FaultNames
{
    public const string Io = "fault-io", Database = "fault-db", Unknown = "fault-bug", Evaluation = "fault-eval",
        CrashLoop = "crash-loop",
        Registration = "fault-register", UploadSave = "fault-save";
}
