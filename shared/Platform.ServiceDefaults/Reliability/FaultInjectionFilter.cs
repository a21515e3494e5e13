using System.Text.Json;
using MassTransit;

namespace Platform.ServiceDefaults.Reliability;

/// <summary>
/// Applies the fault rules whose point is the consumed message's type name, inside each consumer's pipe (so a fault
/// is what a consumer throwing would be: retried by the policy, then published as Fault&lt;T&gt;).
/// </summary>
public sealed class FaultInjectionFilter<TConsumer,
    TMessage>(FaultInjector faults) : IFilter<ConsumerConsumeContext<TConsumer, TMessage>>
    where TConsumer : class where TMessage : class
{
    public Task Send(ConsumerConsumeContext<TConsumer, TMessage> context, IPipe<ConsumerConsumeContext<TConsumer,
        TMessage>> next)
    {
        faults.At(typeof(TMessage).Name, JsonSerializer.Serialize(context.Message));
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("faultInjection");
}

/// <summary>Puts <see cref="FaultInjectionFilter{TConsumer, TMessage}"/> in every consumer's pipe as it is
/// configured.</summary>
public sealed class FaultInjectionObserver(FaultInjector faults) : IConsumerConfigurationObserver
{
    public void ConsumerConfigured<TConsumer>(IConsumerConfigurator<TConsumer> configurator) where TConsumer : class
    {
    }

    public void ConsumerMessageConfigured<TConsumer,
        TMessage>(IConsumerMessageConfigurator<TConsumer, TMessage> configurator)
        where TConsumer : class where TMessage : class =>
        configurator.UseFilter(new FaultInjectionFilter<TConsumer, TMessage>(faults));
}
