using System.Collections.Concurrent;
using System.Threading.Channels;
using Platform.Contracts;

namespace Training.Runs;

/// <summary>
/// Hands TrainingProgressed events (from whichever worker trains the run) to the live views watching that run in this
/// process. A slow watcher loses its oldest events rather than holding the others up.
/// </summary>
public sealed class RunProgressFeed
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Channel<TrainingProgressed>,
        byte>> _watchers = new();

    public Subscription Subscribe(Guid runId)
    {
        var channel = Channel.CreateBounded<TrainingProgressed>(
            new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
        _watchers.GetOrAdd(runId, _ => new())[channel] = 0;
        return new Subscription(this, runId, channel);
    }

    public void Publish(TrainingProgressed progress)
    {
        if (_watchers.TryGetValue(progress.RunId, out var channels))
            foreach (var channel in channels.Keys)
                channel.Writer.TryWrite(progress);
    }

    public sealed class Subscription(RunProgressFeed feed, Guid runId,
        Channel<TrainingProgressed> channel) : IDisposable
    {
        public ChannelReader<TrainingProgressed> Reader => channel.Reader;

        public void Dispose()
        {
            if (feed._watchers.TryGetValue(runId, out var channels))
            {
                channels.TryRemove(channel, out _);
                if (channels.IsEmpty)
                    feed._watchers.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<Channel<TrainingProgressed>,
                        byte>>(runId, channels));
            }
            channel.Writer.TryComplete();
        }
    }
}
