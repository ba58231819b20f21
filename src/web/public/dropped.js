// What the user gave us to upload, as { file, rel } pairs (rel = path below the current folder)
// plus the folders to create first. Dropped folders are walked; a folder picked with the
// "Upload folder" input carries webkitRelativePath.

/** Must be called synchronously inside the drop event: the items die with the event. */
export function dropEntries(dataTransfer) {
  const entries = [...(dataTransfer?.items ?? [])].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  return { entries, files: [...(dataTransfer?.files ?? [])] };
}

const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));
const readBatch = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));

export async function walkDrop({ entries, files }) {
  if (!entries.length) return { items: files.map((file) => ({ file, rel: file.name })), folders: [] };
  const items = [];
  const folders = [];
  const walk = async (entry, prefix) => {
    const rel = prefix + entry.name;
    if (entry.isFile) items.push({ file: await fileOf(entry), rel });
    else if (entry.isDirectory) {
      folders.push(rel);
      const reader = entry.createReader();
      for (let batch = await readBatch(reader); batch.length; batch = await readBatch(reader)) {
        for (const child of batch) await walk(child, rel + '/');
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return { items, folders };
}

export function pickedFiles(fileList) {
  const items = [...fileList].map((file) => ({ file, rel: file.webkitRelativePath || file.name }));
  const folders = new Set();
  for (const { rel } of items) {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  return { items, folders: [...folders] };
}
