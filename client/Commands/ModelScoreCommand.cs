using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Training;
using static TorchSharp.torch;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft model score</c>: per-token log-probs of a given completion after a conversation.</summary>
public static class ModelScoreCommand
{
    public static Command Create()
    {
        var models = new ModelOptions();
        var messages = new Option<string>("--messages") { Description = "JSON file: the conversation before the completion", Required = true };
        var completion = new Option<string>("--completion") { Description = "the assistant text to score", Required = true };
        var command = new Command("score", "log-probs of a completion under the model (and adapter)");
        models.AddTo(command);
        command.Add(messages);
        command.Add(completion);
        command.SetAction(p =>
        {
            var (msgs, tools) = ModelGenerateCommand.ReadMessages(p.GetValue(messages)!);
            using var model = models.Load(p);
            var prompt = model.Template.Encode(model.Tokenizer, msgs, tools).Ids;
            // The user gave text, so it is tokenised once here; generated completions never are.
            var ids = model.Tokenizer.Encode(p.GetValue(completion)!);
            if (ids.Length == 0) throw new ArgumentException("--completion is empty.");
            float[] logprobs;
            using (no_grad())
            using (var batch = SequenceBatch.Build([new PolicySample(prompt, ids, new float[ids.Length], 0)], model.Network.Device))
            {
                var (logp, _) = batch.LogProbs(model.Network, withEntropy: false);
                logprobs = logp[0].narrow(0, prompt.Length - 1, ids.Length).cpu().data<float>().ToArray();
            }
            var total = logprobs.Sum(x => (double)x);
            if (p.GetValue(Cli.Json))
            {
                var tokens = new JsonArray();
                for (int i = 0; i < ids.Length; i++)
                    tokens.Add(new JsonObject { ["id"] = ids[i], ["token"] = model.Tokenizer.Decode([ids[i]]), ["logprob"] = logprobs[i] });
                Cli.PrintJson(new JsonObject { ["tokens"] = tokens, ["sum_logprob"] = total, ["mean_logprob"] = total / ids.Length, ["prompt_tokens"] = prompt.Length });
            }
            else
            {
                for (int i = 0; i < ids.Length; i++) Console.WriteLine($"{ids[i],8} {logprobs[i],10:F4}  {Escape(model.Tokenizer.Decode([ids[i]]))}");
                Console.WriteLine($"sum {total:F4}  mean {total / ids.Length:F4}  ({ids.Length} tokens)");
            }
            return Cli.Ok;
        });
        return command;
    }

    static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t");
}
