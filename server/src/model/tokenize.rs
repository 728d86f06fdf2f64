//! Text → `input_ids`/`attention_mask` exactly like the HF fast tokenizer under nnsight:
//! the tokenizer's own post-processor decides special tokens, batches are padded on the
//! left with `pad = eos` (nnsight's `_configure_tokenizer`, docs/protocol.md).

use tch::{Device, Kind, Tensor};
use tokenizers::Tokenizer;

pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: i64,
    eos_id: Option<i64>,
    bos_id: Option<i64>,
}

/// A tokenized batch: `[B, S]` int64 ids and mask.
pub struct Encoded {
    pub input_ids: Tensor,
    pub attention_mask: Tensor,
}

impl TextTokenizer {
    pub fn from_bytes(json: &[u8], pad_id: i64) -> anyhow::Result<TextTokenizer> {
        let inner =
            Tokenizer::from_bytes(json).map_err(|e| anyhow::anyhow!("tokenizer.json: {e}"))?;
        Ok(TextTokenizer {
            inner,
            pad_id,
            eos_id: None,
            bos_id: None,
        })
    }

    /// The id left padding uses (nnsight: EOS when the tokenizer has no pad token).
    pub fn set_pad_id(&mut self, pad_id: i64) {
        self.pad_id = pad_id;
    }

    pub fn pad_id(&self) -> i64 {
        self.pad_id
    }

    pub fn set_special(&mut self, eos: Option<i64>, bos: Option<i64>) {
        self.eos_id = eos;
        self.bos_id = bos;
    }

    pub fn eos_id(&self) -> Option<i64> {
        self.eos_id
    }

    pub fn bos_id(&self) -> Option<i64> {
        self.bos_id
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn decode(&self, ids: &[u32], skip_special: bool) -> anyhow::Result<String> {
        self.inner
            .decode(ids, skip_special)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))
    }

    pub fn token_id(&self, token: &str) -> Option<i64> {
        self.inner.token_to_id(token).map(i64::from)
    }

    pub fn encode(&self, text: &str) -> anyhow::Result<Vec<i64>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
        Ok(enc.get_ids().iter().map(|&i| i64::from(i)).collect())
    }

    /// Left-pads rows of ids into one batch.
    pub fn batch(&self, rows: &[Vec<i64>], device: Device) -> anyhow::Result<Encoded> {
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows.len() * width);
        let mut mask = Vec::with_capacity(rows.len() * width);
        for row in rows {
            let pad = width - row.len();
            ids.extend(std::iter::repeat_n(self.pad_id, pad).chain(row.iter().copied()));
            mask.extend(std::iter::repeat_n(0i64, pad).chain(std::iter::repeat_n(1, row.len())));
        }
        let shape = [rows.len() as i64, width as i64];
        Ok(Encoded {
            input_ids: Tensor::from_slice(&ids)
                .view(shape)
                .to_kind(Kind::Int64)
                .to_device(device),
            attention_mask: Tensor::from_slice(&mask).view(shape).to_device(device),
        })
    }
}
