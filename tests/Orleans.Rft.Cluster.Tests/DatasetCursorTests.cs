using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Cluster.Tests;

public sealed class DatasetCursorTests
{
    [Fact]
    public void The_epoch_order_is_a_fixed_function_of_seed_and_epoch_so_a_restarted_process_sees_the_same_rows()
    {
        // Literal expectation: any per-process hash randomisation would break it in a new process.
        Assert.Equal([3, 7, 5, 6, 0, 2, 1, 4, 9, 8], DatasetCursor.Permutation(10, 7, 0));
        Assert.NotEqual(DatasetCursor.Permutation(10, 7, 0), DatasetCursor.Permutation(10, 7, 1));
        Assert.Equal(Enumerable.Range(0, 10), DatasetCursor.Permutation(10, 7, 3).Order());
    }

    [Fact]
    public void Taking_across_an_epoch_boundary_continues_in_the_next_epochs_order()
    {
        var (rows, epoch, cursor) = DatasetCursor.Take(5, 7, seed: 1, epoch: 0, cursor: 0);
        Assert.Equal(DatasetCursor.Permutation(5, 1, 0).Concat(DatasetCursor.Permutation(5, 1, 1).Take(2)), rows);
        Assert.Equal((1, 2), (epoch, cursor));
        Assert.Equal(8, DatasetCursor.TotalSteps(rows: 30, batchPrompts: 8, epochs: 2, maxSteps: null));
    }
}
