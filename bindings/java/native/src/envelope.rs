//! Native methods that read envelope headers without keys.

use jni::objects::{JByteArray, JClass, JLongArray, JObject, JValue};
use jni::sys::{jboolean, jint, jlong};
use jni::{EnvUnowned, jni_sig, jni_str};
use mqseal_core::{Envelope, looks_encrypted};

use crate::convert::new_string_array;
use crate::entry::run;
use crate::region::ByteRegion;

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_inspect<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    envelope: JByteArray<'local>,
) -> JObject<'local> {
    run(env, "inspect", |env| {
        let input = ByteRegion::whole_array(env, &envelope, "envelope")?;
        let info = {
            // SAFETY: the block makes no JNI call, and the guard drops at its end.
            let pinned = unsafe { input.pin_input(env, crate::region::PinMode::Critical)? };
            Envelope::parse(pinned.as_slice())?.info()?
        };
        let suite = env.new_string(info.suite.name())?;
        let key_ids: Vec<&str> = info.keys.iter().map(|k| k.key_id.as_str()).collect();
        let key_ids = new_string_array(env, &key_ids)?;
        let versions: Vec<jlong> = info
            .keys
            .iter()
            .map(|k| jlong::from(k.key_version))
            .collect();
        let key_versions = JLongArray::new(env, versions.len())?;
        key_versions.set_region(env, 0, &versions)?;
        let stored_context = match &info.stored_context {
            Some(context) => env.byte_array_from_slice(&context.encode())?,
            None => JByteArray::null(),
        };
        let result = env.new_object(
            jni_str!("io/mqseal/EnvelopeInfo"),
            jni_sig!("(ILjava/lang/String;[Ljava/lang/String;[JZZ[BJII)V"),
            &[
                JValue::Int(jint::from(info.version)),
                JValue::Object(&suite),
                JValue::Object(&key_ids),
                JValue::Object(&key_versions),
                JValue::Bool(info.compressed),
                JValue::Bool(info.sealed_properties),
                JValue::Object(&stored_context),
                JValue::Long(jlong::from(info.sequence)),
                JValue::Int(jint::try_from(info.header_len).unwrap_or(jint::MAX)),
                JValue::Int(jint::try_from(info.ciphertext_len).unwrap_or(jint::MAX)),
            ],
        )?;
        Ok(result)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_looksEncrypted<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    body: JByteArray<'local>,
) -> jboolean {
    run(env, "looksEncrypted", |env| {
        let input = ByteRegion::whole_array(env, &body, "body")?;
        // SAFETY: the block makes no JNI call, and the guard drops at its end.
        let pinned = unsafe { input.pin_input(env, crate::region::PinMode::Critical)? };
        Ok(looks_encrypted(pinned.as_slice()))
    })
}
