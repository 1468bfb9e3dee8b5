/** Per-channel mean/std in [0, 1] pixel units. */
export interface ChannelStats {
  mean: number[];
  std: number[];
}

/**
 * One split as uint8 NHWC pixels. `stats` are the TRAIN split's statistics (also attached to the test split,
 * so standardization never peeks at test data), for 1-channel (grayscale/luminance) and 3-channel output.
 */
export interface Split {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  stats: { 1: ChannelStats; 3: ChannelStats };
}

export interface Dataset {
  name: string;
  classes: string[];
  /** The images trained on. */
  train: Split;
  /** Validation images carved from the training set (only when asked for): for choosing, never trained on. */
  val?: Split;
  /** Positions of the val images in the training split as loaded (before carving). */
  valIndices?: Int32Array;
  /** Held-out split for reporting: the official test set, or a folder's test/ (val/) sub-folder or seeded split. */
  test: Split;
  /** Path(s) read, for logs and run records. */
  source: string;
  /** Image folders: the file behind each example, in split order (which images were held out). */
  files?: { train: string[]; test: string[] };
}

export type RawSplit = Omit<Split, 'stats'>;
